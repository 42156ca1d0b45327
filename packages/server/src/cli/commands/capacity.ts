import { Command } from 'commander';
import { CliError, type GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

/** What `GET /clusters/{name}/capacity` answers (the fields shown). */
interface RoleCapacity {
  role: string;
  provider: string;
  group: string;
  min: number;
  max: number;
  current_nodes: number | null;
  desired_nodes: number | null;
  needed_nodes: number | null;
  demand: {
    running: { cpus: number; mem: number };
    queued: { cpus: number; mem: number; runs: number };
  } | null;
  agents: Array<{ hostname: string; tasks: number; draining: boolean }>;
  draining: Array<{ hostname: string; phase: string }>;
  decisions: Array<{ at: number; action: string; current: number; desired: number; reason: string }>;
  error: string | null;
}

const n = (v: number | null): string => (v === null ? '-' : String(v));
const res = (r: { cpus: number; mem: number }): string =>
  `${Math.round(r.cpus * 100) / 100} cpus ${Math.round(r.mem)} MB`;

/** The tables of one cluster's roles and their last decisions. */
export function formatCapacity(cluster: string, roles: readonly RoleCapacity[], decisions: number): string {
  const rows = roles.map((r) => [
    r.role,
    `${r.provider} ${r.group}`,
    `${n(r.current_nodes)} → ${n(r.desired_nodes)} [${r.min}, ${r.max}]`,
    n(r.needed_nodes),
    r.demand ? res(r.demand.running) : '-',
    r.demand ? `${r.demand.queued.runs} runs, ${res(r.demand.queued)}` : '-',
    `${r.agents.length} (${r.agents.filter((a) => a.tasks > 0).length} busy)`,
    r.draining.map((d) => `${d.hostname} (${d.phase})`).join(', ') || '-',
  ]);
  let out = `cluster ${cluster}\n`;
  out += formatTable(
    ['ROLE', 'GROUP', 'NODES NOW → WANTED', 'NEEDED', 'RUNNING', 'QUEUED', 'AGENTS', 'DRAINING'],
    rows,
  );
  for (const r of roles) {
    if (r.error) out += `\n${r.role}: ${r.error}`;
    const last = r.decisions.slice(0, decisions);
    if (last.length === 0) continue;
    out += `\n${r.role}, last decisions:\n`;
    out += last
      .map((d) => `  ${new Date(d.at).toISOString()} ${d.action} ${d.current} → ${d.desired}: ${d.reason}`)
      .join('\n');
  }
  return `${out}\n`;
}

/** `galley capacity [CLUSTER]`: cluster capacity per Mesos role (every configured cluster without one). */
export function capacityCommand(client: () => GalleyClient): Command {
  return new Command('capacity')
    .description(
      'cluster capacity per Mesos role: nodes now and wanted, demand, agents, drains, last decisions',
    )
    .argument('[cluster]', 'a cluster name (default: every cluster with roles in the capacity config)')
    .option('--decisions <n>', 'last decisions shown per role (≤ 20)', '5')
    .option('--json', 'print the API answer as JSON')
    .action(async (cluster: string | undefined, o: { decisions: string; json?: boolean }) => {
      const shown = Math.min(20, Math.max(0, Number.parseInt(o.decisions, 10) || 0));
      const c = client();
      const names = cluster ? [cluster] : (await c.json<{ clusters: string[] }>('GET', '/clusters')).clusters;
      let printed = 0;
      for (const name of names) {
        let answer: { cluster: string; roles: RoleCapacity[] };
        try {
          answer = await c.json('GET', `/clusters/${encodeURIComponent(name)}/capacity`);
        } catch (err) {
          // Without a cluster named, clusters that have no capacity config are left out.
          if (!cluster && err instanceof CliError && err.code === 'CAPACITY_NOT_CONFIGURED') continue;
          throw err;
        }
        printed++;
        process.stdout.write(
          o.json ? `${JSON.stringify(answer, null, 2)}\n` : formatCapacity(name, answer.roles, shown),
        );
      }
      if (printed === 0)
        process.stdout.write('no cluster has roles in the capacity config (--capacity-config)\n');
    });
}
