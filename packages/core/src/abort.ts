import { abortReason } from './errors/errors.js';

/** A child abort scope: aborted by its own `abort(reason)` or when any parent aborts. */
export interface LinkedAbort {
  readonly signal: AbortSignal;
  /** Aborts this scope (not the parents). Later calls do nothing. */
  abort(reason?: unknown): void;
  /** Stops listening to the parents. Call it when the scope ends, so long-lived parents hold no listener. */
  unlink(): void;
}

/**
 * A child scope of zero or more parent signals. Unlike `AbortSignal.any`, it detaches from
 * its parents on `unlink()`, so thousands of short scopes under one long-lived signal (a
 * fleet run, an agent) leave nothing behind. The child's reason is the parent's reason.
 */
export function linkAbort(...parents: ReadonlyArray<AbortSignal | undefined>): LinkedAbort {
  const controller = new AbortController();
  const live = parents.filter((p): p is AbortSignal => p !== undefined);
  const listeners: Array<[AbortSignal, () => void]> = [];
  const unlink = () => {
    for (const [parent, listener] of listeners.splice(0)) parent.removeEventListener('abort', listener);
  };
  for (const parent of live) {
    if (parent.aborted) {
      unlink();
      controller.abort(abortReason(parent));
      break;
    }
    const listener = () => {
      unlink();
      controller.abort(abortReason(parent));
    };
    parent.addEventListener('abort', listener, { once: true });
    listeners.push([parent, listener]);
  }
  return {
    signal: controller.signal,
    abort: (reason?: unknown) => {
      unlink();
      controller.abort(reason);
    },
    unlink,
  };
}
