import type { FrameworkIdStore } from '@galley/mesos';
import type { Clock } from '../../clock.js';
import type { Store } from '../../store/store.js';

/**
 * The framework id of one cluster, kept in Galley's database (table `framework_ids`), so a
 * restarted server — or another replica — re-subscribes as the same framework and finds its
 * tasks again. `clear` (after the master removed the framework) stores an empty id, read as none.
 */
export function storeFrameworkIds(store: Store, cluster: string, clock: Clock): FrameworkIdStore {
  return {
    async load() {
      const id = await store.getFrameworkId(cluster);
      return id ? id : undefined;
    },
    save: (id) => store.setFrameworkId(cluster, id, clock.now()),
    clear: () => store.setFrameworkId(cluster, '', clock.now()),
  };
}
