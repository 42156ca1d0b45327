import type { FakeAgent, World } from '../model/world.js';

/**
 * Starting executors on an agent: each start takes `executorStartMs`, and at most
 * `executorStartConcurrency` run at once on one agent; the others wait their turn. A real agent's
 * starts share its machine: the recorded idle agent started two command executors 8 ms apart,
 * each in ~250 ms, while 50 launches on two agents of one loaded 2-core machine took 22 s.
 */

const starts = new WeakMap<FakeAgent, { running: number; waiting: Array<() => void> }>();

/** Starts an executor on `agent`: `ready` is called once its start time passed (after its turn). */
export function startExecutor(world: World, agent: FakeAgent, ready: () => void): void {
  let state = starts.get(agent);
  if (state === undefined) {
    state = { running: 0, waiting: [] };
    starts.set(agent, state);
  }
  const slots = state;
  const begin = (): void => {
    slots.running++;
    world.timers.after(world.options.executorStartMs, () => {
      slots.running--;
      slots.waiting.shift()?.();
      ready();
    });
  };
  if (slots.running < world.options.executorStartConcurrency) begin();
  else slots.waiting.push(begin);
}
