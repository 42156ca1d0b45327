#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startFakeMesos } from './fake-mesos.js';
import { DEFAULT_AGENT_RESOURCES, type FakeAgentSpec } from './options.js';

/**
 * `node packages/mesos/dist/testing/main.js --agents 3 --port 5050`: runs a fake Mesos cluster
 * until SIGINT/SIGTERM, so examples and the server can be pointed at it by hand. Prints one JSON
 * line with the master and agent URLs once it listens.
 */

const USAGE = `usage: fake-mesos [options]
  --port N                 first master's port (default 5050; 0 = any)
  --masters N              number of masters (default 1)
  --agents N               number of agents (default 2)
  --resources SPEC         agent resources (default "${DEFAULT_AGENT_RESOURCES}")
  --attributes SPEC        agent attributes; "zone:{i}" numbers them (default "zone:{i}")
  --containerizers LIST    agent --containerizers (default mesos)
  --image-providers LIST   agent --image_providers (default none: no container images)
  --executor-start-ms MS   what starting an executor costs (default 250)
  --execution MODE         simulate (default) or processes
  --heartbeat SECONDS      heartbeat interval (default 15)
  --allocation-interval MS allocation interval (default 1000)
  --ping-timeout MS        agent loss to unreachable (default 75000)
  --help                   this text`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5050' },
      masters: { type: 'string', default: '1' },
      agents: { type: 'string', default: '2' },
      resources: { type: 'string', default: DEFAULT_AGENT_RESOURCES },
      attributes: { type: 'string', default: 'zone:{i}' },
      containerizers: { type: 'string', default: 'mesos' },
      'image-providers': { type: 'string', default: '' },
      'executor-start-ms': { type: 'string', default: '250' },
      execution: { type: 'string', default: 'simulate' },
      heartbeat: { type: 'string', default: '15' },
      'allocation-interval': { type: 'string', default: '1000' },
      'ping-timeout': { type: 'string', default: '75000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const masters = Number(values.masters);
  const firstPort = Number(values.port);
  const execution = values.execution === 'processes' ? 'processes' : 'simulate';
  const agents: FakeAgentSpec[] = Array.from({ length: Number(values.agents) }, (_, i) => ({
    resources: values.resources,
    attributes: values.attributes.replaceAll('{i}', String(i)),
    containerizers: values.containerizers,
    ...(values['image-providers'] !== '' ? { imageProviders: values['image-providers'] } : {}),
  }));
  const mesos = await startFakeMesos({
    masters,
    masterPorts: Array.from({ length: masters }, (_, i) => (firstPort === 0 ? 0 : firstPort + i)),
    agents,
    execution,
    executorStartMs: Number(values['executor-start-ms']),
    heartbeatIntervalSeconds: Number(values.heartbeat),
    allocationIntervalMs: Number(values['allocation-interval']),
    agentPingTimeoutMs: Number(values['ping-timeout']),
  });
  process.stdout.write(
    `${JSON.stringify({ leader: mesos.leaderUrl, masters: mesos.masterUrls, agents: mesos.agentIds.map((id) => ({ id, url: mesos.agentUrl(id) })) })}\n`,
  );
  const stop = (): void => {
    void mesos.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-mesos: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exitCode = 1;
});
