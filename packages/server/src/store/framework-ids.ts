import type { Clock } from '../clock.js';
import type { FrameworkIdRepository } from './store.js';

/** Where a framework id is kept (the shape of the Mesos SDK's FrameworkIdStore). */
export interface StoredFrameworkId {
  load(): Promise<string | undefined>;
  save(id: string): Promise<void>;
  clear(): Promise<void>;
}

/**
 * The framework id of one cluster, kept in Galley's database (table `framework_ids`), so a
 * restarted server — or another replica — re-subscribes as the same framework and finds its
 * tasks again. `clear` (after the master removed the framework) stores an empty id, read as none.
 */
export function storedFrameworkId(
  store: FrameworkIdRepository,
  cluster: string,
  clock: Clock,
): StoredFrameworkId {
  return {
    async load() {
      const id = await store.getFrameworkId(cluster);
      return id ? id : undefined;
    },
    save: (id) => store.setFrameworkId(cluster, id, clock.now()),
    clear: () => store.setFrameworkId(cluster, '', clock.now()),
  };
}
