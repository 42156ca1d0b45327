/**
 * Access to the recordings of a real Mesos 1.12 master in shared/mesos-transcripts (see its
 * README). Tests use the exact `raw` record texts to replay real event streams.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePath } from '@galley/testkit';

/** Where the transcripts live: `../shared` beside the repository; GALLEY_MESOS_TRANSCRIPTS overrides. */
export const TRANSCRIPTS_DIR =
  process.env['GALLEY_MESOS_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../../../shared/mesos-transcripts', import.meta.url));

/** One recorded event record: the exact text Mesos wrote and its RecordIO length header. */
export interface RecordedRecord {
  file: string;
  stream: string;
  type: string;
  recordLength: number;
  raw: string;
}

/**
 * True when the transcripts are present; when they are not, a printed skip, or a failure under
 * GALLEY_REQUIRE_SERVICES=1 (CI places ../shared beside the repository).
 */
export function transcriptsAvailable(): boolean {
  return requirePath(
    'Mesos transcripts',
    TRANSCRIPTS_DIR,
    'CI places ../shared/mesos-transcripts beside the repository',
  ).available;
}

/** Every untrimmed record of every transcript, grouped by file and stream, in arrival order. */
export function recordedStreams(): { name: string; records: RecordedRecord[] }[] {
  const streams = new Map<string, RecordedRecord[]>();
  for (const file of readdirSync(TRANSCRIPTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const data = JSON.parse(readFileSync(join(TRANSCRIPTS_DIR, file), 'utf8')) as {
      events: { kind: string; stream: string; type: string; record_length: number; raw?: string }[];
    };
    for (const event of data.events) {
      if (event.kind !== 'record' || event.raw === undefined) continue;
      const key = `${file}#${event.stream}`;
      const list = streams.get(key) ?? [];
      list.push({
        file,
        stream: event.stream,
        type: event.type,
        recordLength: event.record_length,
        raw: event.raw,
      });
      streams.set(key, list);
    }
  }
  return [...streams].map(([name, records]) => ({ name, records }));
}
