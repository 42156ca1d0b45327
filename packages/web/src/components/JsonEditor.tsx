import { useId } from 'react';

export interface JsonEditorProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** A parse or server error to show under the text. */
  error?: string;
  rows?: number;
  readOnly?: boolean;
}

/** Where JSON text fails to parse, as a sentence; null when it parses. */
export function jsonProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return `Not valid JSON: ${(err as Error).message}`;
  }
}

/** A monospace JSON text area with its parse error shown inline, and a Format button. */
export function JsonEditor({ label, value, onChange, error, rows = 18, readOnly }: JsonEditorProps) {
  const id = useId();
  const problem = error ?? jsonProblem(value) ?? undefined;
  return (
    <div className="field">
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <label htmlFor={id}>{label}</label>
        {readOnly ? null : (
          <button
            type="button"
            className="btn btn-sm"
            disabled={jsonProblem(value) !== null}
            onClick={() => onChange(JSON.stringify(JSON.parse(value), null, 2))}
          >
            Format
          </button>
        )}
      </div>
      <textarea
        id={id}
        className="textarea"
        rows={rows}
        spellCheck={false}
        value={value}
        readOnly={readOnly}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {problem ? (
        <div className="field-error" id={`${id}-error`}>
          {problem}
        </div>
      ) : null}
    </div>
  );
}
