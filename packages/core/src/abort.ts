// Abort scopes linked to parent signals (linkAbort) and one-shot abort listeners (onAbort).
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
  const stops: Array<() => void> = [];
  const unlink = () => {
    for (const stop of stops.splice(0)) stop();
  };
  for (const parent of parents) {
    if (parent === undefined) continue;
    if (parent.aborted) {
      unlink();
      controller.abort(abortReason(parent));
      break;
    }
    stops.push(
      onAbort(parent, () => {
        unlink();
        controller.abort(abortReason(parent));
      }),
    );
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

type AbortCallback = (reason: unknown) => void;
interface FanOut {
  readonly callbacks: Set<AbortCallback>;
  readonly listener: () => void;
}
const fanOuts = new WeakMap<AbortSignal, FanOut>();

/**
 * Calls `callback` once when `signal` aborts (at once, synchronously, if it already has)
 * and returns a function that stops listening. However many callbacks listen to one
 * signal, it carries one listener, which fans out: Node's `EventTarget` pays O(n) per
 * listener added or removed, so 100,000 waiters each adding their own listener to one
 * shared signal cost minutes, where this costs milliseconds. The listener is removed when
 * the last callback stops listening, so nothing is left on a long-lived signal.
 */
export function onAbort(signal: AbortSignal, callback: AbortCallback): () => void {
  if (signal.aborted) {
    callback(signal.reason);
    return noop;
  }
  let fanOut = fanOuts.get(signal);
  if (!fanOut) {
    const callbacks = new Set<AbortCallback>();
    const listener = () => {
      fanOuts.delete(signal);
      const reason: unknown = signal.reason;
      for (const cb of callbacks) cb(reason);
      callbacks.clear();
    };
    fanOut = { callbacks, listener };
    fanOuts.set(signal, fanOut);
    signal.addEventListener('abort', listener, { once: true });
  }
  // A fresh wrapper per call, so the same callback registered twice is two registrations.
  const entry: AbortCallback = (reason) => callback(reason);
  const { callbacks, listener } = fanOut;
  callbacks.add(entry);
  return () => {
    if (!callbacks.delete(entry) || callbacks.size > 0 || fanOuts.get(signal) !== fanOut) return;
    fanOuts.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}

function noop(): void {}
