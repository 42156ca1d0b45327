/** What goes through the ordered queue, and which events it accepts. */
import { SCHEDULER_EVENT_TYPES, type SchedulerEvent } from '../../types/index.js';

/** One unit of ordered work: a Mesos event or a user message (`scheduler.send`). */
export type QueueItem<M> = { source: 'mesos'; event: SchedulerEvent } | { source: 'user'; message: M };

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(SCHEDULER_EVENT_TYPES);

/**
 * True for the event types of the v1 API this SDK knows. Events of other types (from a newer
 * master) are ignored, as the API's forward-compatibility rule says (spec §1.5).
 */
export function isKnownEvent(event: { type?: unknown }): event is SchedulerEvent {
  return typeof event.type === 'string' && KNOWN_EVENT_TYPES.has(event.type);
}

/** True for events that concern offers, which die with their subscription. */
export function isOfferEvent(item: QueueItem<unknown>): boolean {
  if (item.source !== 'mesos') return false;
  const type = item.event.type;
  return (
    type === 'OFFERS' || type === 'RESCIND' || type === 'INVERSE_OFFERS' || type === 'RESCIND_INVERSE_OFFER'
  );
}
