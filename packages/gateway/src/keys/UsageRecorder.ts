// Per-principal usage, added up in memory and written to the database in batches.
import type { Clock, Logger, TimerHandle } from '@tollgate/core';
import type { KeyStore, UsageDelta } from './KeyStore.js';

type Totals = { -readonly [K in keyof Required<UsageDelta>]: number };

/**
 * Adds usage up per principal and writes it every `flushMs` (one statement per principal
 * that used something), so a request costs no database round trip. `flush()` writes now;
 * `close()` writes what is left.
 */
export class UsageRecorder {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #flushMs: number;
  #pending = new Map<string, Totals>();
  #timer: TimerHandle | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: KeyStore, clock: Clock, logger: Logger, flushMs = 1_000) {
    this.#store = store;
    this.#clock = clock;
    this.#logger = logger;
    this.#flushMs = flushMs;
  }

  /** Adds `delta` to `principal`'s usage. */
  record(principal: string, delta: UsageDelta): void {
    const t = this.#pending.get(principal) ?? {
      requests: 0,
      rejected: 0,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
    };
    for (const k of Object.keys(t) as (keyof Totals)[]) t[k] += delta[k] ?? 0;
    this.#pending.set(principal, t);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#flushMs);
  }

  /** Writes everything recorded so far. */
  flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#flushing.then(async () => {
      for (const [principal, delta] of batch) {
        try {
          await this.#store.addUsage(principal, delta);
        } catch (error) {
          this.#logger.error('could not record usage', { principal, error: (error as Error).message });
        }
      }
    });
    return this.#flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
