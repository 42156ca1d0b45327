// Summarises a V8 CPU profile (`node --cpu-prof`, what BENCH_PROFILE=DIR writes for the server):
// `npx tsx packages/server/bench/profile-summary.ts FILE.cpuprofile [TOP]`. Self time, by where
// it ran: PGlite's WebAssembly and its JavaScript, garbage collection, Node's own modules,
// native code outside JavaScript (`(program)`: system calls, libuv, V8's compilers), each
// npm package, and Galley's code (the bundle's chunks, or `packages/*/dist`); then the TOP
// functions (default 15) by self time. Then the same parts with Node's own time (its fs, net and
// stream calls) given to the nearest caller outside Node, the code that asked for it. The last
// line is JSON: busy seconds and each share.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [TOP]');
const top = Number(topArg ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

/** Where a frame's code comes from. */
function partOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'native (program)';
  if (url.startsWith('wasm://')) return 'pglite (wasm)';
  if (url.includes('/@electric-sql/pglite/')) return 'pglite (js)';
  if (url.startsWith('node:') || (url === '' && functionName !== '')) return 'node';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.includes('/dist/bundle/')) return 'galley (bundle: galley and bundled packages)';
  const own = /\/packages\/([^/]+)\//.exec(url);
  if (own) return `@galley/${own[1]}`;
  return url === '' ? '(no url)' : 'other';
}

// Self time per node: each sample's time delta goes to the node it landed on.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const parts = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
for (const [id, us] of self) {
  const frame = byId.get(id)!.callFrame;
  const part = partOf(frame);
  if (part === 'idle') continue;
  busy += us;
  parts.set(part, (parts.get(part) ?? 0) + us);
  const where = frame.url ? `${frame.url.split('/').slice(-1)[0]}:${frame.lineNumber + 1}` : '';
  const name = `${frame.functionName || '(anonymous)'} ${where} [${part}]`;
  functions.set(name, (functions.get(name) ?? 0) + us);
}

// Node's own time, given to the nearest frame above it that is not Node's.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const callerPart = (id: number): string => {
  for (let at: number | undefined = parent.get(id); at !== undefined; at = parent.get(at)) {
    const part = partOf(byId.get(at)!.callFrame);
    if (part !== 'node' && part !== '(no url)') return part;
  }
  return 'node';
};
const byCaller = new Map<string, number>();
for (const [id, us] of self) {
  let part = partOf(byId.get(id)!.callFrame);
  if (part === 'idle') continue;
  if (part === 'node' || part === '(no url)') part = callerPart(id);
  byCaller.set(part, (byCaller.get(part) ?? 0) + us);
}

const share = (us: number) => Math.round((us / busy) * 1000) / 10;
const sorted = [...parts].sort((a, b) => b[1] - a[1]);
console.log(
  `busy ${(busy / 1e6).toFixed(2)} s of ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s`,
);
for (const [part, us] of sorted) console.log(`${share(us).toFixed(1).padStart(5)} %  ${part}`);
console.log(`top ${top} functions by self time:`);
for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${share(us).toFixed(1).padStart(5)} %  ${name}`);
console.log("with Node's own time given to its caller:");
const sortedByCaller = [...byCaller].sort((a, b) => b[1] - a[1]);
for (const [part, us] of sortedByCaller) console.log(`${share(us).toFixed(1).padStart(5)} %  ${part}`);
console.log(
  JSON.stringify({
    busy_s: Math.round(busy / 1e4) / 100,
    shares_percent: Object.fromEntries(sorted.map(([part, us]) => [part, share(us)])),
    shares_by_caller_percent: Object.fromEntries(sortedByCaller.map(([part, us]) => [part, share(us)])),
  }),
);
