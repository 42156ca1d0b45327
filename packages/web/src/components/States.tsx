import type { ReactNode } from 'react';
import { ApiError } from '../api/http.js';

/** A sentence for any error: the server's own message for ApiErrors. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.isUnreachable) return 'The Galley server cannot be reached. Is it running?';
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A spinner with words, announced politely to screen readers. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <div className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export interface EmptyStateProps {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  icon?: string;
}

/** Nothing to show yet, with what to do about it. */
export function EmptyState({ title, children, action, icon = '◌' }: EmptyStateProps) {
  return (
    <div className="state" data-state="empty">
      <div className="state-icon" aria-hidden="true">
        {icon}
      </div>
      <h2>{title}</h2>
      {children ? <div>{children}</div> : null}
      {action}
    </div>
  );
}

export interface ErrorStateProps {
  error: unknown;
  /** Title for a 404 (e.g. "No run with this id"). */
  notFoundTitle?: string;
  onRetry?: () => void;
}

/** A failed load: unreachable server, 404, or the server's message, with a retry button. */
export function ErrorState({ error, notFoundTitle, onRetry }: ErrorStateProps) {
  const api = error instanceof ApiError ? error : null;
  const title = api?.isUnreachable
    ? 'The Galley server cannot be reached'
    : api?.isNotFound
      ? (notFoundTitle ?? 'Not found')
      : 'Something went wrong';
  const detail = api?.isUnreachable ? (
    <>
      Check that <code>galley serve</code> is running, then try again.
    </>
  ) : (
    errorMessage(error)
  );
  return (
    <div className="state state-error" role="alert" data-state="error">
      <div className="state-icon" aria-hidden="true">
        {api?.isNotFound ? '?' : '!'}
      </div>
      <h2>{title}</h2>
      <div>{detail}</div>
      {onRetry && !api?.isNotFound ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
