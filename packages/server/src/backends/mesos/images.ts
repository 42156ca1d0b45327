import type { Attribute } from '@galley/mesos';
import type { Containerizer } from '../../config/mesos-settings.js';
import { attributeText, IMAGES_NODE_ATTRIBUTE } from './nodes.js';

export { IMAGES_NODE_ATTRIBUTE };

/**
 * Which agents run container images, as this backend knows it. A stock Mesos agent
 * (`--containerizers=mesos`, no `--image_providers`) runs no image: it fails a MESOS container with
 * a Docker image ("Unsupported container image type: 2") and a DOCKER container alike. So:
 *
 * - The operator says which agents run images with the agent attribute `galley-images`:
 *   `mesos` (MESOS containerizer with `--image_providers=docker`), `docker` (the DOCKER
 *   containerizer, `--containerizers=mesos,docker`), both (`mesos.docker`: any separator), or
 *   `none`.
 * - `auto` (the default) sends an image only to agents that declare they run it and have not
 *   failed to. Once any agent of the cluster has declared it runs images, image runs are placed on
 *   such agents only; while none has, the cluster runs no images: runs are plain command tasks
 *   (the image is recorded, not used, as with `none` and the local backend).
 * - `mesos` / `docker` send every image that way to every agent (except those declaring `none`).
 * - An agent that failed to launch an image's container is learned (until the server restarts):
 *   it gets no more image runs.
 *
 * Placement sees this as the node attribute `galley.images` (`mesos`, `docker` or `none`), which
 * a run with an image must not have as `none`; a node without it takes any run.
 */

/** How an image is sent to an agent: the MESOS containerizer with a Docker image, or the DOCKER one. */
export type ImageKind = 'mesos' | 'docker';

/** The agent attribute an operator sets: `galley-images:mesos`, `…:docker`, `…:mesos.docker` or `…:none`. */
export const IMAGES_AGENT_ATTRIBUTE = 'galley-images';

/** What an agent declared: the kinds it runs (empty for `none`), or undefined without the attribute. */
export function declaredKinds(attributes: readonly Attribute[] | undefined): ImageKind[] | undefined {
  const attribute = attributes?.find((a) => a.name === IMAGES_AGENT_ATTRIBUTE);
  if (!attribute) return undefined;
  const words = attributeText(attribute)
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w !== '');
  return (['mesos', 'docker'] as const).filter((kind) => words.includes(kind));
}

/** One agent as this backend knows it, for `GET /clusters`. */
export interface AgentImages {
  agentId: string;
  hostname: string;
  /** What its `galley-images` attribute says; undefined without one. */
  declared: ImageKind[] | undefined;
  /** How it is sent images now; null = none. */
  kind: ImageKind | null;
  /** Why it gets no more images, after a container launch failed there. */
  failed: string | null;
}

/** Which agents run images (see the module comment). */
export class ImageSupport {
  private readonly agents = new Map<
    string,
    { hostname: string; declared: ImageKind[] | undefined; failed: string | null }
  >();
  /** True once an agent of the cluster declared it runs images (auto: images go only to such agents). */
  private declaredByAny = false;

  constructor(private readonly mode: Containerizer) {}

  /** Learns an agent's declaration from its offers' attributes. */
  note(agentId: string, hostname: string, attributes: readonly Attribute[] | undefined): void {
    const declared = declaredKinds(attributes);
    const known = this.agents.get(agentId);
    this.agents.set(agentId, { hostname, declared, failed: known?.failed ?? null });
    if (declared !== undefined && declared.length > 0) this.declaredByAny = true;
  }

  /** How an image is sent to this agent now; null = as a plain command task (or not at all). */
  kindFor(agentId: string): ImageKind | null {
    const agent = this.agents.get(agentId);
    if (this.mode === 'none' || agent?.failed) return null;
    if (agent?.declared !== undefined && agent.declared.length === 0) return null;
    if (this.mode === 'mesos' || this.mode === 'docker') return this.mode;
    const declared = agent?.declared ?? [];
    return declared.includes('mesos') ? 'mesos' : declared.includes('docker') ? 'docker' : null;
  }

  /** The agent's `galley.images` node attribute; undefined = it takes image runs as plain commands. */
  nodeAttribute(agentId: string): string | undefined {
    if (this.mode === 'none') return undefined;
    const kind = this.kindFor(agentId);
    if (kind !== null) return kind;
    const agent = this.agents.get(agentId);
    const knownUnable =
      agent?.failed != null || (agent?.declared !== undefined && agent.declared.length === 0);
    if (knownUnable || this.mode !== 'auto' || this.declaredByAny) return 'none';
    return undefined;
  }

  /** An image's container could not be launched on this agent: it gets no more images. */
  failed(agentId: string, hostname: string | null, why: string): void {
    const known = this.agents.get(agentId);
    this.agents.set(agentId, {
      hostname: known?.hostname ?? hostname ?? '',
      declared: known?.declared,
      failed: why,
    });
  }

  /** The agents known, in the order they were first seen. */
  list(): AgentImages[] {
    return [...this.agents].map(([agentId, a]) => ({
      agentId,
      hostname: a.hostname,
      declared: a.declared,
      kind: this.kindFor(agentId),
      failed: a.failed,
    }));
  }

  /** What a person should know: which agents run images, which failed, and what happens to images. */
  summary(): string {
    if (this.mode === 'none') return 'images are recorded, not used (--mesos-containerizer none)';
    const agents = this.list();
    const name = (a: AgentImages) => a.hostname || a.agentId;
    const running = agents.filter((a) => a.kind !== null);
    const failed = agents.filter((a) => a.failed !== null);
    const parts: string[] = [];
    if (this.mode === 'auto' && !this.declaredByAny) {
      parts.push(
        'no agent declares galley-images:mesos or galley-images:docker, so images are recorded, not used',
      );
    } else {
      parts.push(
        running.length === 0
          ? 'no agent runs images now: runs with an image wait'
          : `images run on ${running.map((a) => `${name(a)} (${a.kind})`).join(', ')}`,
      );
    }
    for (const a of failed) parts.push(`${name(a)} failed to launch an image: ${a.failed}`);
    return parts.join('; ');
  }
}
