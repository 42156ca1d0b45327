import { join } from 'node:path';
import { parseAttributes } from '../model/attributes.js';
import { Resources } from '../model/resources.js';
import type { FakeAgent, World } from '../model/world.js';
import type { ResolvedAgentSpec } from '../options.js';
import { startHttpServer, type HttpRequest, type HttpResponder } from '../wire/http-server.js';
import { encodeMesosJson } from '../wire/mesos-json.js';
import { sendJson, sendText } from '../wire/responses.js';
import { handleExecutorCall } from './executor-api.js';
import { handleFiles } from './files-api.js';
import { agentStateJson } from './state-json.js';
import { handleMonitor } from './monitor-statistics.js';

/**
 * A simulated agent: its resources and attributes, and its own HTTP endpoint on 127.0.0.1
 * serving `/state`, `/files/*` and the executor API (`/api/v1/executor`, also under `/slave(1)`).
 */

/** Creates an agent, starts its HTTP endpoint and registers it with the leading master. */
export async function createAgent(world: World, spec: ResolvedAgentSpec): Promise<FakeAgent> {
  const id = `${world.leadership.masterId}-S${world.leadership.agentSequence++}`;
  const agent: FakeAgent = {
    id,
    hostname: spec.hostname ?? world.host,
    ip: world.host,
    port: spec.port,
    total: Resources.parse(spec.resources),
    attributes: parseAttributes(spec.attributes),
    resourcesSpec: spec.resources,
    attributesSpec: spec.attributes,
    containerizer: spec.containerizer,
    used: new Resources(),
    offered: new Resources(),
    status: 'registered',
    unreachableTime: undefined,
    httpUp: false,
    executors: new Map(),
    completedExecutors: [],
    tasks: new Map(),
    server: undefined,
    workDir: join(world.workDir, `agent-${id}`),
    startTime: Date.now() / 1000,
    timers: new Set(),
  };
  await startAgentServer(world, agent);
  world.agents.set(id, agent);
  world.allocateSoon();
  return agent;
}

/** (Re)starts the agent's HTTP endpoint, on the same port when it had one. */
export async function startAgentServer(world: World, agent: FakeAgent): Promise<void> {
  agent.server = await startHttpServer({
    host: world.host,
    port: agent.port,
    handler: (request, res) => routeAgent(world, agent, request, res),
  });
  agent.port = agent.server.port;
  agent.httpUp = true;
}

/** Stops the agent's HTTP endpoint (every executor stream is aborted). */
export async function stopAgentServer(agent: FakeAgent): Promise<void> {
  agent.httpUp = false;
  const server = agent.server;
  agent.server = undefined;
  await server?.close();
}

async function routeAgent(
  world: World,
  agent: FakeAgent,
  request: HttpRequest,
  res: HttpResponder,
): Promise<void> {
  const path = request.path.replace(/^\/slave\(1\)/, '');
  if (path === '/api/v1/executor') {
    handleExecutorCall(world, agent, request, res);
    return;
  }
  if (path === '/state' || path === '/state.json') {
    sendJson(res, encodeMesosJson(agentStateJson(world, agent)));
    return;
  }
  if (path === '/health') {
    res.send(200, [
      ['Date', new Date().toUTCString()],
      ['Content-Length', '0'],
    ]);
    return;
  }
  if (path.startsWith('/files/') && (await handleFiles(world, agent, { ...request, path }, res))) return;
  if (await handleMonitor(world, agent, { ...request, path }, res)) return;
  sendText(res, 404, '');
}
