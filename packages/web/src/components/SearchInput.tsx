import { useRef } from 'react';
import { useShortcut } from '../hooks/use-shortcut.js';

export interface SearchInputProps {
  value: string;
  onChange: (value: string) => void;
  label: string;
  placeholder?: string;
  /** Focus this box when `/` is pressed outside a field (one per page). */
  slashShortcut?: boolean;
  id?: string;
}

/** A search box; `/` focuses it and Escape clears it. */
export function SearchInput({
  value,
  onChange,
  label,
  placeholder,
  slashShortcut = true,
  id,
}: SearchInputProps) {
  const ref = useRef<HTMLInputElement>(null);
  useShortcut(
    '/',
    (event) => {
      event.preventDefault();
      ref.current?.focus();
      ref.current?.select();
    },
    slashShortcut,
  );
  return (
    <div className="field">
      <label htmlFor={id ?? 'search'}>
        {label} {slashShortcut ? <kbd aria-hidden="true">/</kbd> : null}
      </label>
      <input
        ref={ref}
        id={id ?? 'search'}
        type="search"
        className="input search-input"
        value={value}
        placeholder={placeholder}
        aria-keyshortcuts={slashShortcut ? '/' : undefined}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && value) {
            e.preventDefault();
            onChange('');
          }
        }}
      />
    </div>
  );
}
