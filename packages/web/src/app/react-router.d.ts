/**
 * The app uses <BrowserRouter> (declarative mode), whose `navigate()` returns nothing. react-router
 * types it `void | Promise<void>` for its data routers; this narrows it as react-router's own docs
 * advise, so a navigation is not mistaken for a floating promise.
 */
import type { NavigateOptions, To } from 'react-router';

declare module 'react-router' {
  interface NavigateFunction {
    (to: To, options?: NavigateOptions): void;
    (delta: number): void;
  }
}
