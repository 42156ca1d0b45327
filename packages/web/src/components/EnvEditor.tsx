import { useId } from 'react';
import type { EnvVar } from '../api/types.js';

export interface EnvEditorProps {
  value: EnvVar[];
  onChange: (value: EnvVar[]) => void;
  /** Field errors by path (`env.0.name`), as the API names them. */
  errors?: Record<string, string>;
  /** Prefix of those paths (default `env`). */
  path?: string;
  label?: string;
}

/** Rows of NAME = value with add and remove; each row's controls are labelled for screen readers. */
export function EnvEditor({
  value,
  onChange,
  errors = {},
  path = 'env',
  label = 'Environment',
}: EnvEditorProps) {
  const baseId = useId();
  const set = (index: number, patch: Partial<EnvVar>) =>
    onChange(value.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  const listError = errors[path];
  return (
    <fieldset className="env-editor">
      <legend className="field-label">{label}</legend>
      {value.length === 0 ? <div className="muted">No variables.</div> : null}
      {value.map((row, index) => {
        const nameError = errors[`${path}.${index}.name`] ?? errors[`${path}.${index}`];
        const valueError = errors[`${path}.${index}.value`];
        const id = `${baseId}-${index}`;
        return (
          <div className="env-row" key={index} data-testid="env-row">
            <input
              className="input mono"
              aria-label={`Variable ${index + 1} name`}
              placeholder="NAME"
              value={row.name}
              id={`${id}-name`}
              aria-invalid={nameError ? true : undefined}
              aria-describedby={nameError ? `${id}-name-error` : undefined}
              onChange={(e) => set(index, { name: e.target.value })}
            />
            <span aria-hidden="true">=</span>
            <input
              className="input mono"
              aria-label={`Variable ${index + 1} value`}
              placeholder="value"
              value={row.value}
              aria-invalid={valueError ? true : undefined}
              onChange={(e) => set(index, { value: e.target.value })}
            />
            <button
              type="button"
              className="btn btn-ghost icon-btn"
              aria-label={`Remove variable ${row.name || index + 1}`}
              onClick={() => onChange(value.filter((_, i) => i !== index))}
            >
              ✕
            </button>
            {nameError || valueError ? (
              <div className="field-error env-row-error" id={`${id}-name-error`}>
                {nameError ?? valueError}
              </div>
            ) : null}
          </div>
        );
      })}
      {listError ? <div className="field-error">{listError}</div> : null}
      <div>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => onChange([...value, { name: '', value: '' }])}
        >
          + Add variable
        </button>
      </div>
    </fieldset>
  );
}
