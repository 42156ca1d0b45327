import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { CapacityPage } from '../pages/CapacityPage.js';
import { NotFoundPage } from '../pages/NotFoundPage.js';
import { PipelineEditPage } from '../pages/PipelineEditPage.js';
import { PipelinePage } from '../pages/PipelinePage.js';
import { PipelinesPage } from '../pages/PipelinesPage.js';
import { QueuesPage } from '../queues/QueuesPage.js';
import { RunPage } from '../pages/RunPage.js';
import { RunsPage } from '../pages/RunsPage.js';
import { RunTaskPage } from '../pages/RunTaskPage.js';
import { SchedulesPage } from '../schedules/SchedulesPage.js';
import { TaskEditPage } from '../pages/TaskEditPage.js';
import { TaskPage } from '../pages/TaskPage.js';
import { TasksPage } from '../pages/TasksPage.js';
import { AuthGate } from '../auth/AuthGate.js';
import { Layout } from './Layout.js';
import { RunStreamProvider } from './run-stream-context.js';

/**
 * The routes. Every page has its own URL so it can be bookmarked and shared; the server answers
 * index.html for any path outside /api so deep links load the app.
 */
export function App() {
  return (
    <AuthGate>
      <RunStreamProvider>
        <BrowserRouter>
          <Routes>
            <Route element={<Layout />}>
              <Route index element={<Navigate to="/runs" replace />} />
              <Route path="runs" element={<RunsPage />} />
              <Route path="runs/:runId" element={<RunPage />} />
              <Route path="tasks" element={<TasksPage />} />
              <Route path="tasks/new" element={<TaskEditPage />} />
              <Route path="tasks/:alias" element={<TaskPage />} />
              <Route path="tasks/:alias/edit" element={<TaskEditPage />} />
              <Route path="tasks/:alias/run" element={<RunTaskPage />} />
              <Route path="pipelines" element={<PipelinesPage />} />
              <Route path="pipelines/new" element={<PipelineEditPage />} />
              <Route path="pipelines/:pipelineId" element={<PipelinePage />} />
              <Route path="pipelines/:pipelineId/edit" element={<PipelineEditPage />} />
              <Route path="capacity" element={<CapacityPage />} />
              <Route path="schedules" element={<SchedulesPage />} />
              <Route path="queues" element={<QueuesPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        </BrowserRouter>
      </RunStreamProvider>
    </AuthGate>
  );
}
