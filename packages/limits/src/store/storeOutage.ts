// What a store-backed governor does while its store cannot be reached: fail closed, fail open, or fall back to a local share.
import type { Clock, Logger, TimerHandle } from '@tollgate/core';
import type { AdmissionHost } from '../governor/Admission.js';
import type { Waiter } from '../governor/Waiters.js';
import { StoreUnavailableError } from './errors.js';
import type { LocalFallback } from './LocalFallback.js';
import type { QuotaConfig, QuotaStore, StoreRequest } from './QuotaStore.js';
import type { StoreTicket } from './StoreTicket.js';

/**
 * What a governor does while its store cannot be reached: `fail-closed` admits nobody
 * (waiters wait, or fail with `StoreUnavailableError` in reject mode); `fail-open` admits
 * everyone and says so; `local-fallback` enforces `localShare` of every limit in this
 * process until the store is back.
 */
export type StoreDownPolicy = 'fail-closed' | 'fail-open' | 'local-fallback';

/** What a store waiter carries: its request, and the fallback's hold on it while the store is down. */
export interface StoreWait {
  readonly request: StoreRequest;
  /** Set while the local fallback serves it; aborted when it leaves that path. */
  forwarded: AbortController | undefined;
}

/** What the outage needs of its governor's admission. */
export interface OutageDeps {
  readonly host: AdmissionHost<StoreTicket, StoreWait>;
  readonly store: QuotaStore;
  readonly config: QuotaConfig;
  readonly policy: StoreDownPolicy;
  readonly retryMs: number;
  readonly fallback: LocalFallback | undefined;
  /** What is left per rate, from the store's last reply. */
  remaining(): readonly number[];
  /** Asks the store for the quota's state (a probe of a down store). */
  refresh(): Promise<unknown>;
  /** Capacity may have changed: sleepers retry, the pump runs. */
  wake(): void;
}

/**
 * Tracks whether the store is down and applies the policy while it is: marks it down on
 * a connection error, probes it every `retryMs`, and on recovery takes waiters back from
 * the local fallback and charges the store with what the fallback admitted.
 */
export class StoreOutage {
  readonly #deps: OutageDeps;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #down = false;
  #downSince = 0;
  #probeTimer: TimerHandle | undefined;
  /** Waiters the local fallback serves now. */
  readonly #forwarded = new Set<Waiter<StoreWait>>();

  constructor(deps: OutageDeps) {
    this.#deps = deps;
    this.#clock = deps.host.clock;
    this.#logger = deps.host.logger;
  }

  get down(): boolean {
    return this.#down;
  }

  /** Why nobody is admitted now, failing closed. */
  reason(): string | undefined {
    if (!this.#down || this.#deps.policy !== 'fail-closed') return undefined;
    return `quota store '${this.#deps.store.kind}' is unavailable`;
  }

  /** A settle's amounts (per store rate) as the local fallback's resources. */
  fallbackUsage(values: readonly (number | undefined)[]): Record<string, number | undefined> {
    return this.#deps.fallback?.usage(values) ?? {};
  }

  /** Serves the queue by the policy while the store is down; whether it did (the store is not to be asked). */
  serve(): boolean {
    if (!this.#down || this.#deps.policy === 'fail-closed') return false;
    const queue = this.#deps.host.queue;
    if (this.#deps.policy === 'fail-open') {
      for (const waiter of queue) this.#admitOpen(waiter);
    } else if (this.#forwarded.size < queue.size) {
      // Waiters already with the fallback are not walked again (a release wakes this too).
      for (const waiter of queue) this.#forward(waiter);
    }
    return true;
  }

  /** A store call failed: a connection error marks the store down, a script error is logged. */
  error(error: unknown, operation: string): void {
    if (StoreUnavailableError.is(error) || !(error instanceof Error && error.name === 'ReplyError')) {
      this.markDown(error);
      return;
    }
    const { name } = this.#deps.host;
    this.#logger.error('quota store script failed', { governor: name, operation, error: String(error) });
  }

  markDown(error: unknown): void {
    const { host, policy } = this.#deps;
    if (this.#down || host.disposed) return;
    this.#down = true;
    this.#downSince = this.#clock.now();
    const message = error instanceof Error ? error.message : String(error);
    this.#logger.warn('quota store unavailable', { governor: host.name, policy, error: message });
    this.#deps.fallback?.begin(this.#deps.remaining());
    host.emit({ type: 'store-unavailable', policy, error: message });
    host.changed();
    this.#deps.wake();
    this.#scheduleProbe();
  }

  markUp(): void {
    if (!this.#down) return;
    this.#down = false;
    const downMs = this.#clock.now() - this.#downSince;
    this.#logger.info('quota store recovered', { governor: this.#deps.host.name, downMs });
    this.#recall();
    this.#deps.host.emit({ type: 'store-recovered', downMs });
    if (this.#probeTimer !== undefined) this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#deps.host.changed();
    this.#deps.wake();
  }

  dispose(): void {
    if (this.#probeTimer !== undefined) this.#clock.clearTimeout(this.#probeTimer);
    this.#deps.fallback?.dispose();
  }

  #admitOpen(waiter: Waiter<StoreWait>): void {
    const { host } = this.#deps;
    const { cost } = waiter.demand;
    const reason = 'quota store unavailable: admitted (fail-open)';
    host.emit({ type: 'would-block', cost, limit: 'store', reason, label: waiter.label });
    host.admit(waiter, this.#clock.now(), {
      storeId: waiter.extra.request.leaseId,
      admittedAt: undefined,
      local: undefined,
    });
  }

  /** Hands a waiter to the local fallback, with its priority; its own timeout and signal still apply. */
  #forward(waiter: Waiter<StoreWait>): void {
    const { host, fallback } = this.#deps;
    const wait = waiter.extra;
    if (wait.forwarded || waiter.done) return;
    const forwarded = new AbortController();
    wait.forwarded = forwarded;
    this.#forwarded.add(waiter);
    waiter.onLeave = () => {
      this.#forwarded.delete(waiter);
      wait.forwarded?.abort();
    };
    // Only this waiter's timeout starts: the walk arms each one, so forwarding n waiters is O(n).
    host.blocked(waiter, 'quota store unavailable: waiting for the local share', false);
    const { priority, label } = waiter;
    const options = { signal: forwarded.signal, priority, ...(label === undefined ? {} : { label }) };
    fallback!.acquire(wait.request, options).then(
      (local) => {
        if (waiter.done || wait.forwarded !== forwarded) return local.release();
        const ticket = { storeId: wait.request.leaseId, admittedAt: undefined, local };
        host.admit(waiter, this.#clock.now(), ticket);
      },
      (error: unknown) => {
        if (wait.forwarded === forwarded && !forwarded.signal.aborted) host.drop(waiter, error);
      },
    );
  }

  /** The store is back: waiters the fallback has not served go back to the store, and it counts what the fallback admitted. */
  #recall(): void {
    const { host, fallback, store, config } = this.#deps;
    if (!fallback) return;
    this.#forwarded.clear();
    for (const waiter of host.queue) {
      const forwarded = waiter.extra.forwarded;
      waiter.extra.forwarded = undefined;
      forwarded?.abort();
    }
    fallback.drain().forEach((amount, i) => {
      if (amount > 0) store.take(config, i, amount).catch((error: unknown) => this.error(error, 'take'));
    });
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || this.#deps.host.disposed) return;
    this.#probeTimer = this.#clock.setTimeout(() => {
      this.#probeTimer = undefined;
      if (!this.#down || this.#deps.host.disposed) return;
      this.#deps.refresh().then(
        () => this.#deps.wake(),
        () => this.#scheduleProbe(),
      );
    }, this.#deps.retryMs);
  }
}
