/**
 * Access to the recordings of a real Mesos 1.12 master in shared/mesos-transcripts (see its
 * README). Tests use the exact `raw` record texts to replay real event streams.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the transcripts live; GALLEY_MESOS_TRANSCRIPTS overrides. */
export const TRANSCRIPTS_DIR = process.env['GALLEY_MESOS_TRANSCRIPTS'] ?? '/work/shared/mesos-transcripts';

/** One recorded event record: the exact text Mesos wrote and its RecordIO length header. */
export interface RecordedRecord {
  file: string;
  stream: string;
  type: string;
  recordLength: number;
  raw: string;
}

/** True when the transcripts are present on this machine. */
export function transcriptsAvailable(): boolean {
  return existsSync(TRANSCRIPTS_DIR);
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
