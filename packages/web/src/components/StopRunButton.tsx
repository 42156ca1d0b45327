import { useState } from 'react';
import { stopRun, type StopAnswer } from '../api/runs.js';
import type { Run } from '../api/types.js';
import { isStoppable } from '../runs/status.js';
import { ConfirmDialog } from './ConfirmDialog.js';

export interface StopRunButtonProps {
  run: Run;
  /** The server's answer, to show on the page. */
  onAnswer: (answer: StopAnswer) => void;
}

/**
 * Stop, after a confirmation. Disabled when the run cannot be stopped (already stopped, or a stop
 * is under way). A refusal from the server is shown in the dialog in the server's words.
 */
export function StopRunButton({ run, onAnswer }: StopRunButtonProps) {
  const [open, setOpen] = useState(false);
  const stoppable = isStoppable(run);
  return (
    <>
      <button
        type="button"
        className="btn btn-danger"
        disabled={!stoppable}
        title={
          stoppable
            ? 'Stop this run'
            : run.status === 'STOPPED'
              ? 'The run has stopped'
              : 'A stop is under way'
        }
        onClick={() => setOpen(true)}
      >
        ■ Stop
      </button>
      <ConfirmDialog
        open={open}
        title="Stop this run?"
        confirmLabel="Stop run"
        busyLabel="Stopping…"
        danger
        onClose={() => setOpen(false)}
        onConfirm={async () => {
          onAnswer(await stopRun(run.run_id));
        }}
      >
        <p>
          <strong>{run.alias}</strong> is {run.status.toLowerCase()}. Stopping asks its process to end and
          kills it after the grace period. A stopped run is not retried.
        </p>
      </ConfirmDialog>
    </>
  );
}
