/**
 * Agent attributes in the agent flag syntax (`zone:a;rack:3;racks:[1-4];tags:{x,y}`), turned into
 * the `Attribute` JSON Mesos puts in offers: `[` → RANGES, `{` → SET, a number → SCALAR, else TEXT.
 */

/** One attribute as it appears in `Offer.attributes`. */
export type AttributeJson =
  | { name: string; type: 'TEXT'; text: { value: string } }
  | { name: string; type: 'SCALAR'; scalar: { value: number } }
  | { name: string; type: 'RANGES'; ranges: { range: Array<{ begin: number; end: number }> } }
  | { name: string; type: 'SET'; set: { item: string[] } };

/** Parses an attribute spec; an empty or undefined spec gives no attributes. */
export function parseAttributes(spec: string | undefined): AttributeJson[] {
  if (spec === undefined) return [];
  const out: AttributeJson[] = [];
  for (const part of spec.split(';')) {
    const text = part.trim();
    if (text === '') continue;
    const colon = text.indexOf(':');
    if (colon <= 0) throw new Error(`invalid attribute "${text}": expected name:value`);
    const name = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).trim();
    out.push(parseAttributeValue(name, value));
  }
  return out;
}

function parseAttributeValue(name: string, value: string): AttributeJson {
  if (value.startsWith('[')) {
    const range = value
      .slice(1, -1)
      .split(',')
      .map((piece) => piece.trim())
      .filter((piece) => piece !== '')
      .map((piece) => {
        const [begin, end] = piece.split('-').map(Number);
        return { begin: begin ?? 0, end: end ?? begin ?? 0 };
      });
    return { name, type: 'RANGES', ranges: { range } };
  }
  if (value.startsWith('{')) {
    const item = value
      .slice(1, -1)
      .split(',')
      .map((piece) => piece.trim())
      .filter((piece) => piece !== '');
    return { name, type: 'SET', set: { item } };
  }
  const number = Number(value);
  if (value !== '' && Number.isFinite(number)) return { name, type: 'SCALAR', scalar: { value: number } };
  return { name, type: 'TEXT', text: { value } };
}

/** The agent `/state` form: `{"zone":"a","rack":3}`. */
export function attributesStateJson(attributes: readonly AttributeJson[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const attribute of attributes) {
    if (attribute.type === 'TEXT') out[attribute.name] = attribute.text.value;
    else if (attribute.type === 'SCALAR') out[attribute.name] = attribute.scalar.value;
    else if (attribute.type === 'RANGES') {
      out[attribute.name] = `[${attribute.ranges.range.map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
    } else out[attribute.name] = `{${attribute.set.item.join(', ')}}`;
  }
  return out;
}
