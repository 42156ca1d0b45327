import { Dialog } from './Dialog.js';

const SHORTCUTS: [string, string][] = [
  ['/', 'Search on this page'],
  ['g then r', 'Go to runs'],
  ['g then t', 'Go to tasks'],
  ['g then p', 'Go to pipelines'],
  ['g then c', 'Go to capacity'],
  ['n', 'New task (on the tasks page)'],
  ['Enter / Shift+Enter', 'Next / previous log match (in the log search)'],
  ['Escape', 'Close a dialog, clear a search'],
  ['?', 'Show this list'],
];

/** The keyboard shortcuts, opened with `?`. */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Keyboard shortcuts"
      actions={
        <button type="button" className="btn btn-primary" data-autofocus onClick={onClose}>
          Close
        </button>
      }
    >
      <dl className="kv">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys} style={{ display: 'contents' }}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
