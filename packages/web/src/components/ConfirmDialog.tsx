import { useState, type ReactNode } from 'react';
import { Dialog } from './Dialog.js';
import { errorMessage } from './States.js';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** Shown on the confirm button while `onConfirm` runs. */
  busyLabel?: string;
  danger?: boolean;
  /**
   * Does the thing. Resolving closes the dialog; throwing keeps it open and shows the error
   * (the server's message), so the user sees the truthful outcome.
   */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** "Are you sure?" with Enter to confirm (focus starts on the confirm button) and Escape to cancel. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const { open, title, children, confirmLabel, busyLabel, danger, onConfirm, onClose } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setBusy(false);
      onClose();
    } catch (err) {
      setBusy(false);
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog
      open={open}
      onClose={close}
      title={title}
      onSubmit={() => void confirm()}
      actions={
        <>
          <button type="button" className="btn" onClick={close} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            className={danger ? 'btn btn-danger' : 'btn btn-primary'}
            data-autofocus
            disabled={busy}
          >
            {busy ? (busyLabel ?? 'Working…') : confirmLabel}
          </button>
        </>
      }
    >
      <div>{children}</div>
      {error ? (
        <div className="banner banner-error" role="alert">
          {error}
        </div>
      ) : null}
    </Dialog>
  );
}
