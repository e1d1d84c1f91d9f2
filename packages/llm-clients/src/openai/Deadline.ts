// The time limit of one OpenAI call: the caller's signal plus a timeout that covers the body too.
import { AbortError } from '@tollgate/core';
import OpenAI from 'openai';

/**
 * An abort signal that follows the caller's and fires `timeoutMs` after it was made (or
 * last restarted); `explain` turns what a call threw into the SDK's own timeout error when
 * this deadline, not the caller, ended it.
 */
export class Deadline {
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

  /** Aborts when the caller aborts, when the time runs out, or on `abort`. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts the timeout again (a stream's next chunk came). */
  restart(): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new OpenAI.APIConnectionTimeoutError());
    }, this.#timeoutMs);
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /** Stops the timer and stops following the caller's signal. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#forward);
  }

  /** What the call failed with, as the caller should see it. */
  explain(error: unknown): unknown {
    if (this.#timedOut) return new OpenAI.APIConnectionTimeoutError();
    if (this.#outer?.aborted && !AbortError.is(error) && !(error instanceof OpenAI.APIUserAbortError)) {
      return new AbortError('the provider call was aborted', error);
    }
    return error;
  }
}
