/** An abort signal for one provider call: the caller's signal plus a timeout that can be restarted. */
import { AbortError } from '@tollgate/core';

/** Raised (through `explain`) when a {@link CallDeadline}'s own timeout ended the call. */
export class DeadlineExpired extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`);
    this.name = 'DeadlineExpired';
  }
}

/**
 * An abort signal that follows the caller's and fires `timeoutMs` after it was made (or
 * last restarted). `explain` turns what a call threw into a {@link DeadlineExpired} when
 * this deadline, not the caller, ended it, and into an `AbortError` when the caller did.
 */
export class CallDeadline {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #forward = () => this.#controller.abort(this.#outer?.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;

  constructor(outer: AbortSignal | undefined, timeoutMs: number) {
    this.#outer = outer;
    this.#timeoutMs = timeoutMs;
    if (outer?.aborted) this.#forward();
    else outer?.addEventListener('abort', this.#forward, { once: true });
    this.restart();
  }

  /** The signal to hand to the SDK. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the timeout again (at every streamed event: it bounds silence, not the whole stream). */
  restart(): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new DeadlineExpired(this.#timeoutMs));
    }, this.#timeoutMs);
  }

  /** Aborts the call now (an unsubscribed stream). */
  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /** Stops the timer and lets go of the caller's signal. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#forward);
  }

  /** What the call's failure really was: our timeout, the caller's abort, or `error` itself. */
  explain(error: unknown): unknown {
    if (this.#timedOut) return new DeadlineExpired(this.#timeoutMs);
    if (this.#outer?.aborted && !AbortError.is(error)) {
      return new AbortError('the provider call was aborted', error);
    }
    return error;
  }
}
