import { EmptyState } from './States.js';

/** What the pipelines pages show when the server has no pipelines API (it answered 404). */
export function PipelinesNotEnabled() {
  return (
    <EmptyState title="Pipelines are not enabled on this server" icon="∅">
      This Galley server does not offer the pipelines API (<code>/api/v1/pipelines</code> answered 404). Jobs,
      runs and capacity work as usual; pipelines appear here once the server supports them.
    </EmptyState>
  );
}
