import type { RecordedResponse } from './transcripts.js';

/**
 * Comparison of what the fake answers with what the real master answered: ids are linked between
 * the two runs (recorded value ↔ fake value, shown as the recording's placeholder), volatile
 * values (times, uuids, container ids, pids, ports) are masked, and everything else — status,
 * header names and order, header values, body texts, event field layout and values — must match.
 * Every function returns a list of differences (empty = equal), so a failure says what differed.
 */

export type Side = 'recorded' | 'fake';

/** Links ids of the recording with the ids the fake issued, and rewrites text either way. */
export class IdTable {
  private readonly placeholderOfRecorded = new Map<string, string>();
  private readonly placeholderOfFake = new Map<string, string>();
  private readonly fakeOfRecorded = new Map<string, string>();
  private readonly prefixes: Array<[string, string]> = [];

  /**
   * `issued` holds the recorded values that appear in events the master sent: those are linked
   * when the fake sends its counterpart, never guessed from a request.
   */
  constructor(
    volatile: Record<string, string>,
    private readonly issued: ReadonlySet<string> = new Set(),
  ) {
    for (const [name, value] of Object.entries(volatile)) this.placeholderOfRecorded.set(value, `<${name}>`);
  }

  /** Declares that `fake` plays the role of `recorded`. */
  link(recorded: string, fake: string): void {
    if (recorded === '' || fake === '') return;
    this.fakeOfRecorded.set(recorded, fake);
    const placeholder = this.placeholderOfRecorded.get(recorded) ?? `<LINK_${this.placeholderOfFake.size}>`;
    this.placeholderOfRecorded.set(recorded, placeholder);
    this.placeholderOfFake.set(fake, placeholder);
  }

  /** Ids that share a prefix (a master id) are rewritten by prefix when not linked themselves. */
  linkPrefix(recorded: string, fake: string): void {
    this.prefixes.push([recorded, fake]);
    this.link(recorded, fake);
  }

  fakeOf(recorded: string): string | undefined {
    return this.fakeOfRecorded.get(recorded);
  }

  isLinked(recorded: string): boolean {
    return this.fakeOfRecorded.has(recorded);
  }

  /**
   * Rewrites recorded ids in `text` into the fake's (longest first). A recorded id that was never
   * issued to the fake (an invented offer id, a made-up framework id) is rewritten by its master-id
   * prefix, or kept, and linked so both sides normalize alike.
   */
  substitute(text: string): string {
    for (const value of this.placeholderOfRecorded.keys()) {
      if (
        this.fakeOfRecorded.has(value) ||
        this.issued.has(value) ||
        value.length < 4 ||
        !text.includes(value)
      )
        continue;
      let derived = value;
      for (const [recorded, fake] of this.prefixes) {
        if (value.startsWith(`${recorded}-`)) derived = `${fake}${value.slice(recorded.length)}`;
      }
      this.link(value, derived);
    }
    let out = text;
    const pairs = [...this.fakeOfRecorded].sort((a, b) => b[0].length - a[0].length);
    for (const [recorded, fake] of pairs) out = out.split(recorded).join(fake);
    for (const [recorded, fake] of this.prefixes) out = out.split(`${recorded}-`).join(`${fake}-`);
    return out;
  }

  /** Replaces known ids in `text` by placeholders, so both runs read the same. */
  normalize(text: string, side: Side): string {
    const table = side === 'recorded' ? this.placeholderOfRecorded : this.placeholderOfFake;
    let out = text;
    for (const [value, placeholder] of [...table].sort((a, b) => b[0].length - a[0].length)) {
      if (value.length >= 4) out = out.split(value).join(placeholder);
    }
    return out;
  }
}

/** Headers whose values change from run to run. */
const VOLATILE_HEADERS = new Set(['date', 'mesos-stream-id', 'location']);

/** Compares a response with the recorded one: status, reason, header names in order, values, body. */
export function compareResponse(
  label: string,
  recorded: RecordedResponse,
  fake: { status: number; statusText: string; headers: Array<[string, string]>; body?: string },
  ids: IdTable,
  options: { body?: boolean } = {},
): string[] {
  const diffs: string[] = [];
  if (recorded.status !== fake.status)
    diffs.push(`${label}: status ${fake.status}, recorded ${recorded.status}`);
  if (recorded.status_text !== fake.statusText)
    diffs.push(`${label}: reason "${fake.statusText}", recorded "${recorded.status_text}"`);
  const names = (headers: Array<[string, string]>): string => headers.map(([n]) => n).join(', ');
  if (names(recorded.headers) !== names(fake.headers)) {
    diffs.push(`${label}: headers [${names(fake.headers)}], recorded [${names(recorded.headers)}]`);
  }
  const bodyMatters = options.body !== false && recorded.body_raw !== undefined && fake.body !== undefined;
  const recordedBody = bodyMatters ? ids.normalize(recorded.body_raw ?? '', 'recorded') : '';
  const fakeBody = bodyMatters ? ids.normalize(fake.body ?? '', 'fake') : '';
  for (const [name, value] of recorded.headers) {
    const lower = name.toLowerCase();
    if (VOLATILE_HEADERS.has(lower)) continue;
    if (lower === 'content-length' && (!bodyMatters || recordedBody !== (recorded.body_raw ?? ''))) continue;
    const theirs = fake.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
    if (theirs !== undefined && theirs !== value)
      diffs.push(`${label}: header ${name} "${theirs}", recorded "${value}"`);
  }
  if (bodyMatters && recordedBody !== fakeBody)
    diffs.push(`${label}: body ${JSON.stringify(fakeBody)}, recorded ${JSON.stringify(recordedBody)}`);
  return diffs;
}

const MASKED_KEYS: Readonly<Record<string, string>> = {
  timestamp: '<TS>',
  executor_pid: '<PID>',
  nanoseconds: '<NS>',
  uuid: '<UUID>',
  registered_time: '<TS>',
};

/**
 * Masks volatile values of an event (structure and all other values stay). `alsoMasked` names
 * fields that a scenario configured differently from the recording (e.g. the heartbeat interval).
 */
export function maskEvent(value: unknown, path: string[] = [], alsoMasked: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => maskEvent(item, path, alsoMasked));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const parent = path[path.length - 1];
    if (key in MASKED_KEYS) out[key] = MASKED_KEYS[key];
    else if (alsoMasked.includes(key)) out[key] = '<CONFIGURED>';
    else if (key === 'value' && (parent === 'container_id' || parent === 'parent')) out[key] = '<CID>';
    else if (parent === 'master_info' && ['id', 'port', 'pid'].includes(key)) out[key] = `<${key}>`;
    else if (parent === 'address' && key === 'port') out[key] = '<PORT>';
    else if (key === 'port' && parent === 'agent_info') out[key] = '<PORT>';
    else if (key === 'hostname' && parent === 'agent_info') out[key] = '<HOST>';
    else out[key] = maskEvent(inner, [...path, key], alsoMasked);
  }
  return out;
}

/** Whether each numeric field is written as an integer or with a fraction (`2.0`), per field name. */
export function numberFormats(raw: string): Set<string> {
  const out = new Set<string>();
  for (const match of raw.matchAll(/"(\w+)":(-?\d+)(\.\d+)?(?=[,}\]])/g))
    out.add(`${match[1]}:${match[3] === undefined ? 'int' : 'dec'}`);
  return out;
}

/** Every numeric token in order, as `field:int` or `field:dec`. */
export function numberTokens(raw: string): string[] {
  return [...raw.matchAll(/"(\w+)":(-?\d+)(\.\d+)?(?=[,}\]])/g)].map(
    (m) => `${m[1]}:${m[3] === undefined ? 'int' : 'dec'}`,
  );
}

/** Lets a scenario drop what the real master itself did not do consistently (both sides alike). */
export type Relax = (recorded: Record<string, unknown>, fake: Record<string, unknown>) => void;

/** Compares one event with the recorded one: field layout (with order), values, number formats. */
export function compareEvent(
  label: string,
  recordedRaw: string,
  fakeRaw: string,
  ids: IdTable,
  options: { masked?: readonly string[]; relax?: Relax } = {},
): string[] {
  const recorded = maskEvent(
    JSON.parse(ids.normalize(recordedRaw, 'recorded')),
    [],
    options.masked,
  ) as Record<string, unknown>;
  const fake = maskEvent(JSON.parse(ids.normalize(fakeRaw, 'fake')), [], options.masked) as Record<
    string,
    unknown
  >;
  options.relax?.(recorded, fake);
  const diffs: string[] = [];
  if (JSON.stringify(recorded) !== JSON.stringify(fake)) {
    diffs.push(`${label}:\n    fake     ${JSON.stringify(fake)}\n    recorded ${JSON.stringify(recorded)}`);
  }
  if (diffs.length === 0 && options.relax === undefined) {
    // Same structure: every number must be written the same way (2.0 stays 2.0).
    const mine = numberTokens(fakeRaw).join(' ');
    const theirs = numberTokens(recordedRaw).join(' ');
    if (mine !== theirs) diffs.push(`${label}: number formats ${mine}, recorded ${theirs}`);
    return diffs;
  }
  const fakeFormats = numberFormats(fakeRaw);
  const formats = [...numberFormats(recordedRaw)].filter(
    (f) =>
      !fakeFormats.has(f) &&
      !f.startsWith('nanoseconds') &&
      JSON.stringify(fake).includes(`"${f.split(':')[0]}"`),
  );
  if (formats.length > 0) diffs.push(`${label}: number formats ${formats.join(', ')} missing in ${fakeRaw}`);
  return diffs;
}
