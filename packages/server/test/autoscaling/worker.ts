// The worker script the autoscaling tests give Galley to run (written to a temp file as worker.mjs).
export const WORKER_SOURCE = `// A worker for the autoscaling tests, run by Galley as a host process of a pipeline instance.
// With FAKE_GOCD it registers as a GoCD agent (as a gocd-agent image does, with the variables
// Galley sets) and reports its exit to the fake. With PORT0 it serves the GALLEY_DRAIN HTTP
// contract: GET /drain → {"busy": …}; the test flips it with POST /busy and /idle; on SIGTERM it
// reports whether it was busy to REPORT_URL. With GALLEY_DRAIN=signal:SIGUSR1 it finishes its job
// on that signal, reports, and exits 0.
import http from 'node:http';

const gocd = process.env.FAKE_GOCD;
const report = process.env.REPORT_URL;
const id = process.env.GALLEY_INSTANCE_ID;
let busy = false;

const post = (url, value) =>
  fetch(url, { method: 'POST', body: JSON.stringify(value) }).catch(() => undefined);

if (gocd)
  await post(\`\${gocd}/test/register\`, {
    hostname: process.env.AGENT_AUTO_REGISTER_HOSTNAME,
    elastic_agent_id: process.env.GO_EA_AUTO_REGISTER_ELASTIC_AGENT_ID,
    key: process.env.GO_EA_AUTO_REGISTER_KEY,
    drain: process.env.GALLEY_DRAIN,
  });
if (process.env.PORT0)
  http
    .createServer((q, s) => {
      if (q.url === '/drain') {
        s.setHeader('content-type', 'application/json');
        return s.end(JSON.stringify({ busy }));
      }
      if (q.url === '/busy' || q.url === '/idle') {
        busy = q.url === '/busy';
        return s.end(process.env.GALLEY_DRAIN ?? '');
      }
      s.statusCode = 404;
      s.end();
    })
    .listen(Number(process.env.PORT0), '127.0.0.1');

// The signal contract (GALLEY_DRAIN=signal:<NAME>): finish the job in hand, then exit 0.
const drainSignal = (process.env.GALLEY_DRAIN ?? '').startsWith('signal:') ? process.env.GALLEY_DRAIN.slice(7) : null;
if (drainSignal && drainSignal !== 'SIGTERM')
  process.on(drainSignal, async () => {
    while (busy) await new Promise((resolve) => setTimeout(resolve, 50));
    if (report) await post(report, { id, busy, signal: drainSignal });
    process.exit(0);
  });
process.on('SIGTERM', async () => {
  if (gocd) await post(\`\${gocd}/test/exit\`, { hostname: id });
  if (report) await post(report, { id, busy });
  process.exit(0);
});
setInterval(() => undefined, 1 << 30);
`;

/**
 * The memory a worker process asks for (MB): host mode holds it to this in its own cgroup, and a
 * node worker that has made a fetch peaks at ~42 MB charged to it (RSS ~58 MB), so 128 leaves room.
 */
export const WORKER_MEM_MB = 128;

/**
 * The CPU a worker process asks for: host mode holds it to this through a CFS quota, and a node
 * start-up that fetches takes ~1.6 s of wall time at 0.1 CPU on a quiet machine; half a CPU keeps
 * the workers' start well inside the health checks' grace on a loaded one.
 */
export const WORKER_CPU = 0.5;
