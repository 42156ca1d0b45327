/**
 * Reading one subscription stream: RecordIO records → JSON events, one at a time, with the
 * heartbeat watchdog fed on every event. Each event is awaited before the next is read, so a
 * slow consumer holds the socket (backpressure) and SUBSCRIBED is fully handled (framework id
 * persisted) before anything after it.
 */
import type { MesosStreamResponse } from '../../http/client.js';
import { decodeJsonBytes } from '../../json/index.js';
import { RecordIODecoder, RecordIOError } from '../../recordio/index.js';
import type { SchedulerEvent } from '../../types/index.js';
import type { Clock } from '../clock.js';
import type { DisconnectReason } from './connection.js';
import { Watchdog } from './watchdog.js';

/** Heartbeat interval assumed until SUBSCRIBED says otherwise (Mesos' constant, seconds). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;

/** What the reader needs. */
export interface SubscriptionReaderOptions {
  clock: Clock;
  maxRecordBytes: number;
  /** Silence allowed for a heartbeat interval given in seconds, in ms. */
  heartbeatLimitMs(intervalSeconds: number): number;
  /** Called once when the watchdog fires; should close the stream. */
  onTimeout(): void;
  /** Handles one event; the next is read only after it resolves. */
  receive(event: SchedulerEvent, watchdog: Watchdog): Promise<void>;
}

/**
 * Reads `stream` until it ends. Resolves (never rejects) with why it ended: `stream-ended` on a
 * clean EOF, `bad-stream` when framing or JSON is broken, `stream-error` otherwise (including an
 * EOF in the middle of a record).
 */
export async function readSubscription(
  stream: MesosStreamResponse,
  options: SubscriptionReaderOptions,
): Promise<{ reason: DisconnectReason; error?: Error }> {
  const decoder = new RecordIODecoder({ maxRecordBytes: options.maxRecordBytes });
  const watchdog = new Watchdog(
    options.clock,
    options.heartbeatLimitMs(DEFAULT_HEARTBEAT_INTERVAL_SECONDS),
    options.onTimeout,
  );
  try {
    for await (const chunk of stream.body) {
      for (const record of decoder.decode(chunk as Buffer)) {
        const event = decodeJsonBytes(record);
        if (!isEventLike(event)) {
          return {
            reason: 'bad-stream',
            error: new Error('a stream record is not an event object with a type'),
          };
        }
        watchdog.feed();
        await options.receive(event, watchdog);
      }
      if (decoder.error) throw decoder.error;
    }
    decoder.end();
    return { reason: 'stream-ended' };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (error instanceof RecordIOError && error.code !== 'RECORDIO_TRUNCATED')
      return { reason: 'bad-stream', error: err };
    if ((error as { code?: unknown }).code === 'MESOS_JSON_INVALID')
      return { reason: 'bad-stream', error: err };
    return { reason: 'stream-error', error: err };
  } finally {
    watchdog.stop();
  }
}

function isEventLike(value: unknown): value is SchedulerEvent {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
