import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { builtGalley, GALLEY_MAIN } from '@galley/testkit';
import { describe, expect, it } from 'vitest';

// `galley` runs the bundle the build makes (scripts/bundle.mjs). V8 keeps each module's source
// while it runs, at two bytes per character once a single one is past Latin-1: a dash in a
// comment doubled the 3.6 MB app chunk in the idle server's memory.

const gate = builtGalley('the bundle');

describe.runIf(gate.available)('the bundle `galley` runs', () => {
  it('holds no character past Latin-1 in any of its files', async () => {
    const dir = dirname(GALLEY_MAIN);
    const files = (await readdir(dir)).filter((name) => name.endsWith('.js'));
    expect(files.length).toBeGreaterThan(1);
    const wide: string[] = [];
    for (const name of files) {
      const text = await readFile(join(dir, name), 'utf8');
      // eslint-disable-next-line no-control-regex -- every character past Latin-1
      const at = text.search(/[^\x00-\xff]/u);
      if (at >= 0) wide.push(`${name}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
    }
    expect(wide).toEqual([]);
  });
});
