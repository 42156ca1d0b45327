import { attributesStateJson } from '../model/attributes.js';
import type { MasterServer, World } from '../model/world.js';
import { startHttpServer, type HttpRequest, type HttpResponder } from '../wire/http-server.js';
import { encodeMesosJson } from '../wire/mesos-json.js';
import { sendJson, sendRedirect, sendText } from '../wire/responses.js';
import { taskStateJson } from '../agent/state-json.js';
import { MESOS_VERSION } from './events.js';
import { handleSchedulerRequest } from './scheduler-api.js';
import { handleOperatorRequest } from './operator-api.js';

/**
 * A master's HTTP endpoint. The leader serves the scheduler API (also under `/master`) and a small
 * `/master/state`, `/master/tasks` and `/master/frameworks`; the others answer 307 with a protocol-relative Location to the leader (503
 * `No leader elected` when there is none); a master that is starting answers `404 Not Found.`;
 * a master that is down refuses connections.
 */

/** Starts (or restarts on its old port) a master's endpoint. */
export async function startMasterServer(world: World, master: MasterServer): Promise<void> {
  const port = master.port === 0 ? (world.options.masterPorts[master.index] ?? 0) : master.port;
  master.server = await startHttpServer({
    host: world.host,
    port,
    handler: (request, res) => routeMaster(world, master, request, res),
  });
  master.port = master.server.port;
}

/** Stops a master's endpoint: open streams abort, new connections are refused. */
export async function stopMasterServer(master: MasterServer): Promise<void> {
  const server = master.server;
  master.server = undefined;
  await server?.close();
}

/** The leading master's endpoint, if there is one. */
export function leaderOf(world: World): MasterServer | undefined {
  const index = world.leadership.leaderIndex;
  return index === undefined ? undefined : world.masters[index];
}

function redirectOrUnavailable(world: World, res: HttpResponder, path: string): void {
  const leader = leaderOf(world);
  if (leader === undefined || leader.phase === 'down') sendText(res, 503, 'No leader elected');
  else sendRedirect(res, `//${world.host}:${leader.port}${path}`);
}

function routeMaster(world: World, master: MasterServer, request: HttpRequest, res: HttpResponder): void {
  if (master.phase === 'starting' || master.phase === 'down') {
    sendText(res, 404, '404 Not Found.');
    return;
  }
  const path = request.path;
  if (path === '/redirect' || path === '/master/redirect') {
    redirectOrUnavailable(world, res, '');
    return;
  }
  if (path === '/api/v1/scheduler' || path === '/master/api/v1/scheduler') {
    if (master.phase === 'leading') handleSchedulerRequest(world, master, request, res);
    else redirectOrUnavailable(world, res, path);
    return;
  }
  if (path === '/api/v1' || path === '/master/api/v1') {
    if (master.phase === 'leading') void handleOperatorRequest(world, master, request, res);
    else redirectOrUnavailable(world, res, path);
    return;
  }
  if (
    path === '/master/state' ||
    path === '/state' ||
    path === '/master/state.json' ||
    path === '/state.json'
  ) {
    if (master.phase === 'leading') sendJson(res, encodeMesosJson(masterStateJson(world, master)));
    else redirectOrUnavailable(world, res, path);
    return;
  }
  if (path === '/master/tasks' || path === '/master/frameworks') {
    if (master.phase !== 'leading') {
      redirectOrUnavailable(world, res, path);
      return;
    }
    const state = masterStateJson(world, master);
    const frameworks = state.frameworks as Array<Record<string, unknown>>;
    const completed = state.completed_frameworks as Array<Record<string, unknown>>;
    const body =
      path === '/master/frameworks'
        ? { frameworks, completed_frameworks: completed }
        : {
            tasks: [...frameworks, ...completed].flatMap((f) => [
              ...(f.tasks as unknown[]),
              ...(f.unreachable_tasks as unknown[]),
              ...(f.completed_tasks as unknown[]),
            ]),
          };
    sendJson(res, encodeMesosJson(body));
    return;
  }
  if (path === '/health' || path === '/master/health') {
    res.send(200, [
      ['Date', new Date().toUTCString()],
      ['Content-Length', '0'],
    ]);
    return;
  }
  sendText(res, 404, '');
}

/** A reduced `/master/state`: leader, agents, frameworks with tasks and offers (no sandbox paths). */
export function masterStateJson(world: World, master: MasterServer): Record<string, unknown> {
  const pid = `master@${world.host}:${master.port}`;
  const frameworkJson = (active: boolean) => (framework: (typeof world.completedFrameworks)[number]) => ({
    id: framework.id,
    name: framework.info.name ?? '',
    user: framework.info.user ?? '',
    roles: framework.roles,
    capabilities: [...framework.capabilities],
    failover_timeout: framework.info.failover_timeout ?? 0,
    checkpoint: framework.info.checkpoint === true,
    active: active && framework.subscription !== undefined,
    connected: active && framework.subscription !== undefined,
    registered_time: framework.registeredTime,
    tasks: [...framework.tasks.values()].filter((t) => !t.unreachable).map(taskStateJson),
    unreachable_tasks: [...framework.tasks.values()].filter((t) => t.unreachable).map(taskStateJson),
    completed_tasks: framework.completedTasks.map(taskStateJson),
    offers: [...framework.offers].flatMap((id) => {
      const offer = world.offers.get(id);
      return offer === undefined
        ? []
        : [
            {
              id,
              framework_id: framework.id,
              allocation_info: { role: offer.role },
              slave_id: offer.agentId,
              resources: offer.resources.toStateJson(),
            },
          ];
    }),
  });
  const agents = [...world.agents.values()];
  return {
    version: MESOS_VERSION,
    id: world.leadership.masterId,
    pid,
    hostname: world.host,
    leader: pid,
    leader_info: { id: world.leadership.masterId, pid, port: master.port, hostname: world.host },
    activated_slaves: agents.filter((a) => a.status === 'registered').length,
    deactivated_slaves: agents.filter((a) => a.status === 'disconnected').length,
    unreachable_slaves: agents.filter((a) => a.status === 'unreachable').length,
    slaves: agents
      .filter((a) => a.status !== 'gone' && a.status !== 'recovering')
      .map((agent) => ({
        id: agent.id,
        hostname: agent.hostname,
        port: agent.port,
        pid: `slave(1)@${agent.ip}:${agent.port}`,
        attributes: attributesStateJson(agent.attributes),
        resources: agent.total.toStateJson(),
        used_resources: agent.used.toStateJson(),
        offered_resources: agent.offered.toStateJson(),
        active: agent.status === 'registered',
      })),
    frameworks: [...world.frameworks.values()].filter((f) => f.knownToLeader).map(frameworkJson(true)),
    completed_frameworks: world.completedFrameworks.map(frameworkJson(false)),
  };
}
