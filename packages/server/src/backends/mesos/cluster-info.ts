import type { Node } from '@galley/core';
import type { MesosScheduler } from '@galley/mesos';
import type { ClusterInfo, MesosAgentSupport } from '../backend.js';
import type { MesosClusterConfig, MesosSettings } from '../../config/mesos-settings.js';
import type { AgentImages } from './images.js';

/** What `describeCluster` reads of a Mesos backend. */
export interface ClusterView {
  cluster: MesosClusterConfig;
  settings: MesosSettings;
  scheduler: MesosScheduler | null;
  /** `closed`, `starting`, or the scheduler's connection phase. */
  connection: string;
  /** The nodes of the offers held now. */
  nodes: readonly Node[];
  /** Which agents run images and which failed to (`ImageSupport.summary`). */
  images: string;
  /** Resources and count of tracked tasks. */
  used: { cpus: number; memMb: number; count: number };
  agentsOffering: number;
  isSuppressed(role: string): boolean;
  /** Per agent: images and executor, and what failed there (`agentSupportOf`). */
  agentSupport: MesosAgentSupport[];
}

/** The connection as `/clusters` shows it: `subscribed`, `connecting`, `stopped (failed-over)`, … */
export function connectionOf(
  scheduler: MesosScheduler | null,
  closed: boolean,
  stopReason: string | null,
): string {
  if (closed) return 'closed';
  if (!scheduler) return 'starting';
  const state = scheduler.state;
  if (state.phase === 'STOPPED') return `stopped (${stopReason ?? state.reason})`;
  return state.phase.toLowerCase();
}

/**
 * What a person should know about how runs execute on this cluster: the containerizer, and which
 * agents run images and which failed to (`images`, from `ImageSupport.summary`).
 */
export function clusterNote(settings: MesosSettings, cluster: MesosClusterConfig, images = ''): string {
  const how =
    settings.containerizer === 'none'
      ? 'no container (images are recorded, not used)'
      : settings.containerizer === 'docker'
        ? 'the DOCKER containerizer'
        : settings.containerizer === 'mesos'
          ? 'the MESOS containerizer with Docker images'
          : 'their image where an agent declares it runs images (galley-images), else plain';
  const executor =
    settings.executor === 'galley'
      ? ' (without an image: under one shared galley-executor per agent, where it starts)'
      : '';
  const note = `Mesos cluster at ${cluster.master}: runs are command tasks with ${how}${executor}, ${settings.network} networking`;
  return settings.containerizer === 'none' || images === '' ? note : `${note}. Images: ${images}`;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * A Mesos cluster's state for `GET /clusters`: free = the offers held now; capacity = free plus
 * what Galley's tasks hold (Mesos shows a framework only what it is offered).
 */
export function describeCluster(v: ClusterView): ClusterInfo {
  const free = { cpus: 0, memMb: 0, gpus: 0 };
  for (const n of v.nodes) {
    free.cpus += n.free.cpus;
    free.memMb += n.free.memMb;
    free.gpus += n.free.gpus;
  }
  const s = v.scheduler;
  return {
    name: v.cluster.name,
    backend: 'mesos',
    state: v.connection,
    runsOnHost: false,
    note: clusterNote(v.settings, v.cluster, v.images),
    capacity: {
      cpus: round(free.cpus + v.used.cpus),
      memMb: round(free.memMb + v.used.memMb),
      gpus: free.gpus,
    },
    free: { cpus: round(free.cpus), memMb: round(free.memMb), gpus: free.gpus },
    running: v.used.count,
    mesos: {
      connection: v.connection,
      frameworkId: s?.id ?? null,
      master: s?.state.phase === 'SUBSCRIBED' ? s.state.master : null,
      roles: v.settings.roles,
      agents: v.agentsOffering,
      offersHeld: s?.offers.size ?? 0,
      suppressedRoles: v.settings.roles.filter((r) => v.isSuppressed(r)),
      agentSupport: v.agentSupport,
    },
  };
}

/**
 * Every agent the backend knows (from offers, or from a failure there), with how it runs images and
 * Galley's runs: `images` from `ImageSupport`, `executor` `galley` unless `--mesos-executor command`
 * or the agent could not start galley-executor (`fallbackOf`).
 */
export function agentSupportOf(
  images: readonly AgentImages[],
  executor: MesosSettings['executor'],
  fallbackOf: (agentId: string) => { hostname: string; why: string } | undefined,
  fallbackAgents: readonly string[],
): MesosAgentSupport[] {
  const out: MesosAgentSupport[] = images.map((a) => {
    const fallback = fallbackOf(a.agentId);
    return {
      agentId: a.agentId,
      hostname: a.hostname,
      images: a.kind ?? 'none',
      imageFailure: a.failed,
      executor: executor === 'galley' && !fallback ? 'galley' : 'command',
      executorFailure: fallback?.why ?? null,
    };
  });
  for (const agentId of fallbackAgents) {
    if (out.some((a) => a.agentId === agentId)) continue;
    const fallback = fallbackOf(agentId);
    out.push({
      agentId,
      hostname: fallback?.hostname ?? '',
      images: 'none',
      imageFailure: null,
      executor: 'command',
      executorFailure: fallback?.why ?? null,
    });
  }
  return out;
}
