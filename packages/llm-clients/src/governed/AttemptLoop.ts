// The one retry loop of the governed client: attempts, hooks, events and stats, for chat and stream alike.
import { addUsage, onAbort, sleep, TollgateError, type Usage } from '@tollgate/core';
import { type AttemptOutcome, runAttempt } from './attempt.js';
import type { ClientContext } from './context.js';
import type { CallSize } from './costs.js';
import type { AttemptHook, AttemptListener } from './hooks.js';
import type { RetryDecider } from './RetryDecider.js';
import type { Transport } from './transports.js';

/** A call that succeeded: the transport's value and the usage charged. */
export interface CallResult<T> {
  readonly value: T;
  readonly usage: Usage;
}

/**
 * Runs a call as attempts until one succeeds or the call gives up: each attempt through the
 * hooks (breaker, header feedback), `runAttempt` and the `RetryDecider`. Every call counts
 * in `stats.calls` and ends in exactly one `call` event (and `succeeded`) or one `failed`
 * event (and `failed`), whether it was a `chat` or a `stream`.
 */
export class AttemptLoop {
  readonly #ctx: ClientContext;
  readonly #hooks: readonly AttemptHook[];
  readonly #decider: RetryDecider;

  constructor(ctx: ClientContext, hooks: readonly AttemptHook[], decider: RetryDecider) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#decider = decider;
  }

  /**
   * Runs the call of `size`, with a new transport from `transport` for every attempt.
   * @throws the last attempt's error, once the call gives up.
   */
  async run<T>(
    size: CallSize,
    transport: () => Transport<T>,
    signal: AbortSignal | undefined,
  ): Promise<CallResult<T>> {
    this.#ctx.stats.calls++;
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.#ctx.clock.now();
      const outcome = await this.#attempt(size, transport(), signal);
      if (outcome.ok) {
        this.#succeeded(outcome.usage, attempt, size, startedAt);
        return outcome;
      }
      if (outcome.usage) this.#ctx.stats.usage = addUsage(this.#ctx.stats.usage, outcome.usage);
      const delayMs =
        outcome.final || signal?.aborted ? undefined : this.#decider.delayAfter(outcome.error, attempt);
      if (delayMs === undefined) throw this.#failed(outcome.error, attempt);
      try {
        if (delayMs > 0) await sleep(this.#ctx.clock, delayMs, signal);
      } catch (error) {
        throw this.#failed(error, attempt);
      }
    }
  }

  /**
   * One attempt between the hooks: they may refuse it, and hear how it ended. An abort ends
   * it for them at once (a streamed probe unsubscribed gives the breaker's probe back now),
   * though its leases are settled when the attempt unwinds.
   */
  #attempt<T>(
    size: CallSize,
    transport: Transport<T>,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome<T>> {
    const watch = new AttemptWatch(signal);
    try {
      for (const hook of this.#hooks) watch.listeners.push(hook.begin());
    } catch (error) {
      watch.end(false, error);
      return Promise.resolve({ ok: false, error, final: false, usage: undefined });
    }
    watch.listen();
    // A continuation, not an `async` frame: an attempt waiting in a governor's queue keeps less.
    return runAttempt(this.#ctx, size, transport, signal, () => watch.admitted()).then((outcome) => {
      if (outcome.ok) watch.succeeded(outcome);
      watch.end(outcome.ok, outcome.ok ? undefined : outcome.error);
      return outcome;
    });
  }

  #succeeded(usage: Usage, attempt: number, size: CallSize, startedAt: number): void {
    const { stats, clock } = this.#ctx;
    stats.succeeded++;
    stats.usage = addUsage(stats.usage, usage);
    this.#ctx.emit({
      type: 'call',
      attempt,
      estimateTokens: size.promptTokens + size.maxTokens,
      usage,
      durationMs: clock.now() - startedAt,
    });
  }

  /** Counts and reports a call that gives up; returns its error to throw. */
  #failed(error: unknown, attempts: number): unknown {
    this.#ctx.stats.failed++;
    this.#ctx.emit({
      type: 'failed',
      attempts,
      error: String((error as Error)?.message ?? error),
      code: TollgateError.is(error) ? error.code : 'UNKNOWN',
    });
    return error;
  }
}

/**
 * The hooks' listeners of one attempt, told how it went, each at most once; an abort of
 * the caller's signal ends it for them at once. An object with methods, so a waiting
 * attempt keeps no closures of its own.
 */
class AttemptWatch {
  readonly listeners: AttemptListener[] = [];
  readonly #signal: AbortSignal | undefined;
  #stop: (() => void) | undefined;
  #over = false;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  /** Ends the attempt for the listeners when the signal aborts from now on. */
  listen(): void {
    const signal = this.#signal;
    if (signal === undefined || signal.aborted || this.#over) return;
    this.#stop = onAbort(signal, (reason) => this.end(false, reason));
  }

  admitted(): void {
    for (const l of this.listeners) l.admitted?.();
  }

  succeeded(reply: Parameters<NonNullable<AttemptListener['succeeded']>>[0]): void {
    if (this.#over) return;
    for (const l of this.listeners) l.succeeded?.(reply);
  }

  end(ok: boolean, error?: unknown): void {
    if (this.#over) return;
    this.#over = true;
    this.#stop?.();
    const aborted = this.#signal?.aborted ?? false;
    for (const l of this.listeners) {
      if (!ok) l.failed?.(error, aborted);
      l.ended?.();
    }
  }
}
