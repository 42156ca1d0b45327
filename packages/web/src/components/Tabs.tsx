import { useId, type KeyboardEvent } from 'react';

export interface TabsProps<T extends string> {
  tabs: { id: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
  label: string;
}

/**
 * A tab list (ARIA tabs pattern): arrow keys move between tabs, the panel is the caller's, with
 * `tabPanelProps(value)`.
 */
export function Tabs<T extends string>({ tabs, value, onChange, label }: TabsProps<T>) {
  const base = useId();
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = tabs.findIndex((t) => t.id === value);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length];
    if (next) {
      onChange(next.id);
      document.getElementById(`tab-${next.id}`)?.focus();
    }
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} data-base={base}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          id={`tab-${tab.id}`}
          type="button"
          role="tab"
          className="tab"
          aria-selected={tab.id === value}
          aria-controls={`panel-${tab.id}`}
          tabIndex={tab.id === value ? 0 : -1}
          onClick={() => onChange(tab.id)}
          onKeyDown={onKeyDown}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** Props of the panel that shows tab `id`. */
export function tabPanelProps(id: string) {
  return { id: `panel-${id}`, role: 'tabpanel', 'aria-labelledby': `tab-${id}` } as const;
}
