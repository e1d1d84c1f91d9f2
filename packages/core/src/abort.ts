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
 * One scope: its controller and what stops its parents' callbacks. A class, not closures:
 * thousands of scopes alive at once (one per waiting task) share its methods.
 */
class Link implements LinkedAbort {
  readonly #controller = new AbortController();
  #stops: Array<() => void> | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Listens to `parent`: its abort aborts this scope with its reason. */
  follow(parent: AbortSignal): void {
    if (this.#controller.signal.aborted) return;
    if (parent.aborted) {
      this.abort(abortReason(parent));
      return;
    }
    const stop = onAbort(parent, () => this.abort(abortReason(parent)));
    if (this.#stops === undefined) this.#stops = [stop];
    else this.#stops.push(stop);
  }

  abort(reason?: unknown): void {
    this.unlink();
    this.#controller.abort(reason);
  }

  unlink(): void {
    const stops = this.#stops;
    if (stops === undefined) return;
    this.#stops = undefined;
    for (const stop of stops) stop();
  }
}

/**
 * A child scope of zero or more parent signals. Unlike `AbortSignal.any`, it detaches from
 * its parents on `unlink()`, so thousands of short scopes under one long-lived signal (a
 * fleet run, an agent) leave nothing behind. The child's reason is the parent's reason.
 * `abort` and `unlink` are methods: call them on the scope (`scope.abort()`).
 */
export function linkAbort(...parents: ReadonlyArray<AbortSignal | undefined>): LinkedAbort {
  const link = new Link();
  for (const parent of parents) if (parent !== undefined) link.follow(parent);
  return link;
}

type AbortCallback = (reason: unknown) => void;

/** One registration: its own object, so the same callback registered twice is two registrations. */
interface Entry {
  readonly callback: AbortCallback;
}

/** The one listener a signal carries for every `onAbort` callback on it. */
class FanOut {
  readonly entries = new Set<Entry>();
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /**
   * The signal aborted: every callback hears it once. A callback that throws does not keep
   * the abort from the others: its error is reported afterwards as an uncaught exception,
   * as `EventTarget` reports a throwing listener's.
   */
  handleEvent(): void {
    fanOuts.delete(this.#signal);
    const reason: unknown = this.#signal.reason;
    for (const entry of this.entries) {
      try {
        entry.callback(reason);
      } catch (error) {
        process.nextTick(rethrow, error);
      }
    }
    this.entries.clear();
  }

  /** Stops `entry`; the listener goes when the last one has. */
  remove(entry: Entry): void {
    if (!this.entries.delete(entry) || this.entries.size > 0 || fanOuts.get(this.#signal) !== this) return;
    fanOuts.delete(this.#signal);
    this.#signal.removeEventListener('abort', this);
  }
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
    fanOut = new FanOut(signal);
    fanOuts.set(signal, fanOut);
  }
  const entry: Entry = { callback };
  fanOut.entries.add(entry);
  const owner = fanOut;
  return () => owner.remove(entry);
}

function noop(): void {}

function rethrow(error: unknown): never {
  throw error;
}
