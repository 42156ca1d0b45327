/**
 * Collects events and hands them to `deliver` together on the next turn of the event loop, so what
 * happens in one turn (a batch of launches, a recovery) is delivered, and stored, as one batch.
 */
export function batcher<T>(deliver: (batch: T[]) => void): (event: T) => void {
  let pending: T[] = [];
  return (event) => {
    pending.push(event);
    if (pending.length > 1) return; // a delivery is already scheduled
    setImmediate(() => {
      const batch = pending;
      pending = [];
      deliver(batch);
    });
  };
}
