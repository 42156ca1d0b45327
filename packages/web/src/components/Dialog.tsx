import { useEffect, useId, useRef, type ReactNode } from 'react';

export interface DialogProps {
  open: boolean;
  /** Called on Escape, on the backdrop's close, and by the dialog's own buttons. */
  onClose: () => void;
  title: string;
  children: ReactNode;
  /** Buttons at the bottom; the one with `data-autofocus` gets focus when the dialog opens. */
  actions?: ReactNode;
  /** Wraps body and actions in a form; Enter in a field submits it. */
  onSubmit?: () => void;
  wide?: boolean;
}

/**
 * A modal dialog on the native <dialog>: focus stays inside while open, Escape closes, focus goes
 * back to where it was when it closes. The element marked `data-autofocus` (else the first
 * control) gets focus on open.
 */
export function Dialog({ open, onClose, title, children, actions, onSubmit, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnFocus = useRef<HTMLElement | null>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      returnFocus.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      const target =
        dialog.querySelector<HTMLElement>('[data-autofocus]') ??
        dialog.querySelector<HTMLElement>('input, select, textarea, button');
      target?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
      returnFocus.current?.focus();
    }
  }, [open]);

  useEffect(
    () => () => {
      if (ref.current?.open) returnFocus.current?.focus();
    },
    [],
  );

  const body = (
    <>
      <div className="dialog-body">
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
      {actions ? <div className="dialog-actions">{actions}</div> : null}
    </>
  );

  return (
    <dialog
      ref={ref}
      className="dialog"
      style={wide ? { width: 'min(48rem, calc(100vw - 2rem))' } : undefined}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open ? (
        onSubmit ? (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              onSubmit();
            }}
          >
            {body}
          </form>
        ) : (
          body
        )
      ) : null}
    </dialog>
  );
}
