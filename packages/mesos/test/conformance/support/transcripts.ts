import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requirePath } from '@galley/testkit';

/**
 * The recordings of a real Mesos 1.12 master and agents (`../shared/mesos-transcripts`, beside the
 * repository as CI places it). See that directory's README for the format.
 */

export const TRANSCRIPT_DIR = fileURLToPath(
  new URL('../../../../../../shared/mesos-transcripts/', import.meta.url),
);

export type Pairs = Array<[string, string]>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Pairs;
  body?: unknown;
  body_raw?: string;
}

export interface RecordedResponse {
  status: number;
  status_text: string;
  headers: Pairs;
  body_raw?: string;
  body?: unknown;
}

export interface Exchange {
  seq: number;
  label: string;
  t_ms: number;
  target: string;
  request: RecordedRequest;
  response?: RecordedResponse;
  error?: { code: string };
  streaming?: boolean;
  stream?: string;
  stream_end?: { t_ms: number; how: string };
}

export interface RecordedRecord {
  kind: 'record';
  t_ms: number;
  stream: string;
  type: string;
  raw?: string;
  event?: Record<string, unknown>;
  trimmed?: boolean;
  summary?: { offers: Array<{ id: string; agent_id: string; agent_port: number; role: string }> };
}

export interface RecordedEnd {
  kind: 'stream-end';
  t_ms: number;
  stream: string;
  how: string;
}

export interface Transcript {
  file: string;
  exchanges: Exchange[];
  events: Array<RecordedRecord | RecordedEnd>;
  volatile: { values: Record<string, string> };
  executor_side?: {
    env: Record<string, string>;
    exchanges: Array<{ label: string; request: RecordedRequest; response?: RecordedResponse; t_ms: number }>;
    events: Array<{ type: string; raw: string; t_ms: number }>;
  };
  [key: string]: unknown;
}

/**
 * True when the recordings are where CI puts them; otherwise a printed skip, and a failure under
 * GALLEY_REQUIRE_SERVICES=1 (CI), so the conformance suites never pass by not running.
 */
export const TRANSCRIPTS_AVAILABLE = requirePath(
  'conformance (fake master vs the Mesos 1.12 recordings)',
  TRANSCRIPT_DIR,
  'CI places ../shared/mesos-transcripts beside the repository',
).available;

/** Loads one transcript by its number (`'07'`) or file name. */
export function loadTranscript(name: string): Transcript {
  const file = readdirSync(TRANSCRIPT_DIR).find((f) => f === name || f.startsWith(`${name}-`));
  if (file === undefined) throw new Error(`no transcript ${name} in ${TRANSCRIPT_DIR}`);
  return JSON.parse(readFileSync(`${TRANSCRIPT_DIR}${file}`, 'utf8')) as Transcript;
}

/** The recorded records of one stream, in arrival order. */
export function recordsOf(transcript: Transcript, stream: string): RecordedRecord[] {
  return transcript.events.filter((e): e is RecordedRecord => e.kind === 'record' && e.stream === stream);
}

/** Recorded agent id → the agent's port (5051, 5052), learned from every offer in the file. */
export function agentPorts(transcript: Transcript): Map<string, number> {
  const out = new Map<string, number>();
  for (const event of transcript.events) {
    if (event.kind !== 'record' || event.type !== 'OFFERS') continue;
    if (event.summary !== undefined)
      for (const offer of event.summary.offers) out.set(offer.agent_id, offer.agent_port);
    const offers =
      (event.event?.offers as { offers?: Array<Record<string, unknown>> } | undefined)?.offers ?? [];
    for (const offer of offers) {
      const id = (offer.agent_id as { value: string }).value;
      const port = ((offer.url as { address: { port: number } }).address ?? {}).port;
      out.set(id, port);
    }
  }
  return out;
}

/** Every recorded offer: id → agent port and role. */
export function recordedOffers(
  transcript: Transcript,
): Map<string, { port: number; role: string; stream: string }> {
  const out = new Map<string, { port: number; role: string; stream: string }>();
  for (const event of transcript.events) {
    if (event.kind !== 'record' || event.type !== 'OFFERS') continue;
    if (event.summary !== undefined) {
      for (const offer of event.summary.offers)
        out.set(offer.id, { port: offer.agent_port, role: offer.role, stream: event.stream });
    }
    const offers =
      (event.event?.offers as { offers?: Array<Record<string, unknown>> } | undefined)?.offers ?? [];
    for (const offer of offers) {
      out.set((offer.id as { value: string }).value, {
        port: (offer.url as { address: { port: number } }).address.port,
        role: (offer.allocation_info as { role?: string } | undefined)?.role ?? '*',
        stream: event.stream,
      });
    }
  }
  return out;
}
