import { createServer, type Server } from 'node:net';
import type { PipelineSpec } from '@galley/core';

/**
 * Host ports for local pipeline processes: `host_port: 0` gets a port the OS says is free now
 * (bound on 127.0.0.1 with port 0, then released), a fixed `host_port` is used as given. A port
 * the OS just gave may in principle be taken by someone else before the process binds it; the
 * process then fails and is restarted with a new port, as on Mesos.
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address && typeof address === 'object') ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Each process's host ports, in `port_mappings` order: fixed ones as given, `0` a free one. */
export async function hostPortsOf(spec: PipelineSpec): Promise<Record<string, number[]>> {
  const processes = Object.values(spec.processes);
  const dynamic = processes.reduce((n, p) => n + p.port_mappings.filter((m) => m.host_port === 0).length, 0);
  const free = await pickFreePorts(dynamic);
  const ports: Record<string, number[]> = {};
  for (const p of processes)
    ports[p.id] = p.port_mappings.map((m) => (m.host_port !== 0 ? m.host_port : free.shift()!));
  return ports;
}
