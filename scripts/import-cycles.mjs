// Fails when a file-level import circle exists in packages/*/src (run by `npm run lint`).
// The graph is madge's, the one `npx madge --circular --extensions ts,tsx packages/*/src` checks:
// type-only imports count, since a circle of types is a circle in the design all the same.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

// Circles known today, each with the change that removes it: a circle (a set of files importing
// each other) is known when every one of its files starts with one of an entry's paths. Known
// circles are reported on every run but do not fail it; any other circle does. An entry that no
// longer matches a circle is reported too (delete it then), without failing the run.
const KNOWN = [];

const roots = readdirSync('packages', { withFileTypes: true })
  .map((d) => `packages/${d.name}/src`)
  .filter((dir) => existsSync(dir));
const result = await madge(roots, { baseDir: '.', fileExtensions: ['ts', 'tsx'] });
const graph = result.obj();

/** The strongly connected components with more than one file, or a file importing itself. */
function circles(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges[v] ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges[v] ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of Object.keys(edges)) if (!index.has(v)) visit(v);
  return found;
}

const isKnown = (circle, entry) => circle.every((file) => entry.some((path) => file.startsWith(path)));
const all = circles(graph);
const unknown = all.filter((c) => !KNOWN.some((entry) => isKnown(c, entry)));
const stale = KNOWN.filter((entry) => !all.some((c) => isKnown(c, entry)));

for (const c of all) {
  console.log(`${unknown.includes(c) ? 'IMPORT CIRCLE' : 'known import circle (TODO)'}: ${c.join(' , ')}`);
}
for (const entry of stale)
  console.log(`stale entry in scripts/import-cycles.mjs KNOWN: ${entry.join(' , ')}`);
if (unknown.length > 0) process.exit(1);
console.log(`import circles: none new in ${Object.keys(graph).length} files`);
