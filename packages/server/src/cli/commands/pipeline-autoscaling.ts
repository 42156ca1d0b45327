import type { Command } from 'commander';
import type { AutoscalingStatusJson } from '../../api/schemas/index.js';
import type { GalleyClient } from '../client.js';
import { formatTable } from '../table.js';

/**
 * `galley pipeline autoscaling <id>`: the autoscaler's view of a pipeline — the count the spec
 * asks for, the instances not being stopped, the last metric and decision, and the last decisions
 * with their reasons (newest first).
 */
export function addAutoscalingCommand(cmd: Command, client: () => GalleyClient): void {
  cmd
    .command('autoscaling <id>')
    .description(
      "a pipeline's autoscaling: current and desired instances, the metric, the last decisions and why",
    )
    .option('--json', 'print JSON')
    .option('-n, --last <n>', 'decisions to show', (v) => Math.max(1, Math.min(100, Number(v) || 10)), 10)
    .action(async (id: string, opts: { json?: boolean; last: number }) => {
      const s = await client().json<AutoscalingStatusJson>(
        'GET',
        `/pipelines/${encodeURIComponent(id)}/autoscaling`,
      );
      if (opts.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      const show = (v: number | null) => (v === null ? '-' : String(v));
      const head = s.enabled
        ? `source ${s.source}  instances ${s.current} (running ${s.running})  desired ${show(s.desired)}  metric ${show(s.metric)}`
        : `autoscaling is off: instances ${s.current} (running ${s.running})`;
      const rows = s.decisions
        .slice(0, opts.last)
        .map((d) => [
          d.at,
          d.error === null ? show(d.metric) : 'error',
          `${d.current}→${d.desired}`,
          d.reason,
        ]);
      const table = rows.length > 0 ? `\n${formatTable(['AT', 'METRIC', 'INSTANCES', 'REASON'], rows)}` : '';
      process.stdout.write(`${head}${table}\n`);
    });
}
