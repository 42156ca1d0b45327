import type { ReactNode } from 'react';

/** The aria attributes that tie a control to its error message. */
export function fieldAria(id: string, error: string | undefined) {
  return {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-error` : undefined,
  } as const;
}

export interface FieldProps {
  /** The control's id (the control sets it, with `fieldAria(id, error)`). */
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  className?: string;
  children: ReactNode;
}

/** A labelled control with its hint and its inline error message. */
export function Field({ id, label, error, hint, className, children }: FieldProps) {
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error ? <div className="field-hint">{hint}</div> : null}
      {error ? (
        <div className="field-error" id={`${id}-error`}>
          {error}
        </div>
      ) : null}
    </div>
  );
}
