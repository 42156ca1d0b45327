import { ErrorState, Loading } from '../components/States.js';
import { useResource } from '../hooks/use-resource.js';
import { ScheduleTable } from './ScheduleEditor.js';
import { schedulesApi } from './schedules-api.js';

/** Every schedule, with its next runs; a task's page adds and edits them. */
export function SchedulesPage() {
  const list = useResource('schedules', (signal) => schedulesApi.all(signal));
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Schedules</h1>
          <div className="subtitle">Cron schedules of tasks, fired once per tick by the leader.</div>
        </div>
      </div>
      {list.error && !list.data ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <section className="card">
          <ScheduleTable schedules={list.data.schedules} onChange={list.reload} showDefinition />
        </section>
      )}
    </div>
  );
}
