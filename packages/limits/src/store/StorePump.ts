// The loop that serves a store-backed governor's queue: one batched store call at a time, then sleep until it can fit.
import type { Clock, TimerHandle } from '@tollgate/core';
import type { AdmissionHost } from '../governor/Admission.js';
import { type Blocker, cooldownReason, rateReason, slotsReason, TASK_LIMIT } from '../governor/demand.js';
import type { LivenessView } from '../governor/liveness.js';
import { queueBlocker } from '../governor/rules.js';
import { mayRefuse } from '../governor/taskContext.js';
import type { Waiter } from '../governor/Waiters.js';
import { DeferredGrants } from './DeferredGrants.js';
import type { ResolvedDistributedOptions } from './distributedOptions.js';
import { StoreUnavailableError } from './errors.js';
import type { AcquireReply, QuotaConfig, QuotaStore } from './QuotaStore.js';
import type { StoreTicket } from './StoreTicket.js';
import type { StoreOutage, StoreWait } from './storeOutage.js';
import { MAX_TIMER_MS } from './timerMs.js';

/** What the pump needs of its admission. */
export interface PumpTarget {
  readonly store: QuotaStore;
  readonly config: QuotaConfig;
  readonly outage: StoreOutage;
  /** Takes in what a store reply says of the quota (`granted`: it admitted some of this process's waiters). */
  learn(reply: AcquireReply, localNow: number, granted: boolean): void;
}

type W = Waiter<StoreWait>;

/**
 * Serves the queue through the store, in rounds. Up to `batchSize` waiters go to the store
 * in one atomic call that grants them in order until one does not fit, and tells how long
 * until it would. That one's limits are then claimed for the round: whoever needs any of
 * them waits behind it, while waiters that share no limit with it go in the next call (a
 * running task's request is not stuck behind a task waiting for that task's slot). Once
 * everyone left waits behind someone, the pump sleeps until the first of them can fit
 * (plus a little jitter), or less when a settle or release anywhere publishes a wake-up:
 * no polling. Callers that enqueue in the same tick go in one batch.
 */
export class StorePump {
  readonly #host: AdmissionHost<StoreTicket, StoreWait>;
  readonly #target: PumpTarget;
  readonly #o: ResolvedDistributedOptions;
  readonly #clock: Clock;
  readonly #maxSleepMs: number;
  /** Waiters the store granted to start a little later, each on its own timer. */
  readonly #deferred: DeferredGrants<W>;
  /** Pending sleeps: each wake-up, with its clock time. */
  readonly #sleepers = new Map<() => void, number>();
  #pumping = false;
  #kickPending = false;
  /** The limits of the waiters the store made wait this round: who needs any of them waits too. */
  #claimed = 0;
  /** Until the first of those can fit, ms. */
  #roundWaitMs = Number.POSITIVE_INFINITY;
  /** This round's first waiter for a slot kept out by the memory cap (this process's own). */
  #memoryWaiter: W | undefined;
  /** What each waiter the store made wait was told: ms until it fits (`undefined`: only the store knows). */
  #answers = new WeakMap<W, number | undefined>();
  /** The limits someone was made to wait for when the pump last slept (new work needing them waits behind). */
  waitingMask = 0;

  constructor(
    host: AdmissionHost<StoreTicket, StoreWait>,
    target: PumpTarget,
    o: ResolvedDistributedOptions,
  ) {
    this.#host = host;
    this.#target = target;
    this.#o = o;
    this.#clock = host.clock;
    this.#deferred = new DeferredGrants(host.clock);
    const windows = target.config.rates.map((r) => r.windowMs);
    this.#maxSleepMs = Math.max(50, Math.min(60_000, ...windows));
  }

  /** Capacity may have changed: sleepers retry now, and an idle pump starts. */
  wake(): void {
    this.#newRound();
    this.wakeSleepers();
    const host = this.#host;
    if (this.#pumping || this.#kickPending || host.queue.size === 0 || host.disposed) return;
    // Start on the next microtask: callers that enqueue in the same tick go in one batch.
    this.#kickPending = true;
    queueMicrotask(() => {
      this.#kickPending = false;
      if (!this.#pumping) void this.#run();
    });
  }

  wakeSleepers(): void {
    for (const wake of [...this.#sleepers.keys()]) wake();
  }

  /** Time passes or capacity may change: every waiter may be asked again. */
  #newRound(): void {
    this.#claimed = 0;
    this.#roundWaitMs = Number.POSITIVE_INFINITY;
  }

  /** Resolves after `ms` (at most a timer's longest), or at the next wake-up. */
  sleep(ms: number): Promise<void> {
    // A disposed governor arms no timer: whoever sleeps finds it disposed at once.
    if (this.#host.disposed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.#sleepers.delete(wake);
        this.#clock.clearTimeout(timer);
        resolve();
      };
      // Longer waits wake early and are computed again.
      const delay = Math.min(MAX_TIMER_MS, Math.max(0, ms));
      const timer = this.#clock.setTimeout(wake, delay);
      this.#sleepers.set(wake, this.#clock.now() + delay);
    });
  }

  /** Starts every deferred grant now: their waiters are done, so the store gets them back. */
  dispose(): void {
    this.#deferred.flush();
  }

  liveness(): Pick<LivenessView, 'wakeAt' | 'headWaitMs' | 'busy'> {
    const first = this.#deferred.firstDue() ?? Number.POSITIVE_INFINITY;
    const wakeAt = Math.min(first, ...this.#sleepers.values());
    return {
      wakeAt: Number.isFinite(wakeAt) ? wakeAt : undefined,
      headWaitMs: undefined,
      busy: this.#kickPending || (this.#pumping && this.#sleepers.size === 0),
    };
  }

  /**
   * Ms until `waiter` fits, as far as this process can tell: the cooldown's end, or what
   * the store said when it made it wait (`Infinity` for a slot, `undefined` for a time
   * only the store knows), or 0 when it has not made it wait (nothing known keeps it out).
   */
  waitOf(waiter: W): number | undefined {
    const due = this.#deferred.dueOf(waiter);
    if (due !== undefined) return Math.max(0, due - this.#clock.now());
    const cooling = this.#host.cooldownUntil - this.#clock.now();
    if (cooling > 0) return cooling;
    return this.#answers.has(waiter) ? this.#answers.get(waiter) : 0;
  }

  async #run(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#host.queue.size > 0 && !this.#host.disposed && (await this.#step()));
    } finally {
      this.#pumping = false;
    }
  }

  /** One step of a round: whether to go on. */
  async #step(): Promise<boolean> {
    const host = this.#host;
    // The store is down and the policy serves the queue: the pump resumes when it is back.
    if (this.#target.outage.serve()) return false;
    const localNow = this.#clock.now();
    if (host.cooldownUntil > localNow) {
      this.waitingMask = -1;
      await this.#wait(host.queue.head!, this.#cooldownBlocker(host.cooldownUntil - localNow));
      return true;
    }
    const batch = this.#batch();
    if (batch.length > 0) {
      const reply = await this.#call(batch);
      if (reply) this.#apply(batch, reply);
      return true;
    }
    // Nobody was made to wait: everyone left was granted and waits for its start.
    if (this.#claimed === 0 && this.#memoryWaiter === undefined) return false;
    await this.#rest();
    return true;
  }

  /**
   * Waiters in order that share no limit with one the store made wait this round, up to
   * `batchSize`. Over the memory cap (this process's own), waiters for a slot are kept out,
   * and so is whoever needs a limit they need.
   */
  #batch(): W[] {
    const batch: W[] = [];
    const queue = this.#host.queue;
    const live = queue.liveMask();
    const overMemory = this.#host.memoryBlocker(1) !== undefined;
    let claimed = this.#claimed;
    this.#memoryWaiter = undefined;
    for (const waiter of queue) {
      if ((claimed & live) === live) break;
      if ((waiter.mask & claimed) !== 0 || this.#deferred.has(waiter)) continue;
      if (overMemory && waiter.demand.slots > 0) {
        this.#memoryWaiter ??= waiter;
        claimed |= waiter.mask;
        continue;
      }
      if (batch.push(waiter) >= this.#o.batchSize) break;
    }
    return batch;
  }

  /** Everyone left waits behind a waiter the store (or the memory cap) made wait: sleep until the first can fit. */
  async #rest(): Promise<void> {
    let waitMs = this.#roundWaitMs;
    this.waitingMask = this.#claimed;
    this.#newRound();
    const waiter = this.#memoryWaiter;
    const memory = waiter && this.#host.memoryBlocker(waiter.demand.slots);
    if (waiter && memory) {
      if (this.#refused(waiter, memory)) return;
      this.#host.blocked(waiter, memory.reason);
      this.#answers.set(waiter, undefined);
      this.waitingMask |= waiter.mask;
      waitMs = Math.min(waitMs, memory.waitMs!);
    }
    // Someone always waits behind a claim with a wait; should none be known, retry within a window.
    if (!Number.isFinite(waitMs)) waitMs = this.#maxSleepMs;
    await this.sleep(waitMs + this.#o.random() * this.#o.jitterMs);
  }

  /** The store's reply to `batch`, or `undefined` when it failed (handled here). */
  async #call(batch: readonly W[]): Promise<AcquireReply | undefined> {
    const { store, config, outage } = this.#target;
    // A store call can take up to its command timeout: a waiter whose own wait ends
    // first hears at its deadline, not when the store answers.
    const watchdog = this.#watch(batch);
    try {
      const reply = await store.acquire(
        config,
        batch.map((w) => w.extra.request),
      );
      outage.markUp();
      return reply;
    } catch (error) {
      outage.error(error, 'acquire');
      await this.#failed(error);
      return undefined;
    } finally {
      if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
    }
  }

  /**
   * A store call failed. A store marked down is the policy's to serve; a store that
   * answers with an error (a failing script) is retried after `retryMs`, waiters' timeouts
   * running. Reject mode fails the head instead.
   */
  async #failed(error: unknown): Promise<void> {
    const host = this.#host;
    if (this.#o.onStoreDown !== 'fail-closed' && this.#target.outage.down) return;
    const head = host.queue.head;
    if (head && host.mode === 'reject') {
      const kind = this.#target.store.kind;
      host.drop(
        head,
        StoreUnavailableError.is(error) ? error : new StoreUnavailableError(kind, String(error)),
      );
      return;
    }
    for (const w of host.queue) host.arm(w);
    this.#newRound();
    await this.sleep(this.#o.retryMs);
  }

  /** Grants what the store granted; the first it did not is made to wait, its limits claimed for the round. */
  #apply(batch: readonly W[], reply: AcquireReply): void {
    const localNow = this.#clock.now();
    this.#target.learn(reply, localNow, reply.granted > 0);
    for (let k = 0; k < reply.granted; k++) {
      const start = reply.startsInMs?.[k] ?? 0;
      if (start > 0) this.#startLater(batch[k]!, reply.now + start, start);
      else this.#grant(batch[k]!, reply.now, localNow);
    }
    const first = batch[reply.granted];
    if (first && !first.done) {
      const blocker = this.#blockerOf(reply, first);
      if (!this.#refused(first, blocker)) {
        this.#host.blocked(first, blocker.reason);
        this.#answers.set(first, blocker.waitMs === undefined ? Number.POSITIVE_INFINITY : undefined);
        this.#claimed |= first.mask;
        this.#roundWaitMs = Math.min(this.#roundWaitMs, this.#waitFor(reply));
      }
    }
    this.#host.changed();
  }

  /** The head waits for `blocker` (refused in reject mode if it is new work). */
  async #wait(head: W, blocker: Blocker): Promise<void> {
    if (this.#refused(head, blocker)) return;
    this.#host.blocked(head, blocker.reason);
    this.#newRound();
    await this.sleep(blocker.waitMs!);
  }

  /**
   * The store granted `waiter` to start `ms` after its reply (its entries count from then).
   * It goes ahead once this process's timer says so: a timer armed after the reply came
   * fires no earlier than the store's start.
   */
  #startLater(waiter: W, admittedAt: number, ms: number): void {
    this.#deferred.add(waiter, ms, () => {
      this.#grant(waiter, admittedAt, this.#clock.now());
      this.#host.changed();
    });
  }

  #grant(waiter: W, storeNow: number, localNow: number): void {
    const { leaseId, amounts, slots } = waiter.extra.request;
    if (waiter.done) {
      // Aborted or timed out while the store granted it: give it straight back.
      const { store, config, outage } = this.#target;
      const zero = amounts.map(() => 0);
      store
        .settle(config, leaseId, amounts, zero)
        .then(() => (slots > 0 ? store.release(config, leaseId, slots, false, amounts) : undefined))
        .then(() => this.wake())
        .catch((error: unknown) => outage.error(error, 'release'));
      return;
    }
    this.#host.admit(waiter, localNow, { storeId: leaseId, admittedAt: storeNow, local: undefined });
  }

  /**
   * How long to sleep on a reply that did not grant the head. A slot's expiry (its dead
   * holder's TTL; a release publishes sooner) and a cooldown's end are exact. A wait behind
   * held reservations is only an upper bound: their settles publish a wake-up; still retry
   * at least once per shortest window, should one be lost.
   */
  #waitFor(reply: AcquireReply): number {
    const waitMs = Math.max(1, reply.waitMs);
    const exact = reply.blockedBy === 'slots' || reply.blockedBy === 'cooldown';
    if (exact) return Math.min(MAX_TIMER_MS, waitMs);
    // With grants ahead, ask before a sliding window lets it in: the store grants it to
    // start then, and the round trip is spent before the start, not after it. Asked ahead
    // and refused (another limit keeps it out), the wait left is slept out exactly.
    const { rates, deferMs = 0 } = this.#target.config;
    const sliding = rates.find((r) => r.name === reply.blockedBy)?.algorithm === 'sliding-window';
    const ahead = sliding ? deferMs / 2 : 0;
    return Math.min(this.#maxSleepMs, waitMs > ahead ? waitMs - ahead : waitMs);
  }

  /** Why the store did not grant `head`, in the words the in-process governor uses. */
  #blockerOf(reply: AcquireReply, head: W): Blocker {
    const { waitMs } = reply;
    const { rates, maxSlots } = this.#target.config;
    if (reply.blockedBy === 'slots' && maxSlots !== null) {
      const available = Math.max(0, maxSlots - reply.slotsUsed);
      const reason = slotsReason(reply.slotsUsed, maxSlots);
      return { limit: TASK_LIMIT, requested: head.demand.slots, available, waitMs: undefined, reason };
    }
    if (reply.blockedBy === 'cooldown') return this.#cooldownBlocker(waitMs);
    const i = rates.findIndex((r) => r.name === reply.blockedBy);
    if (i < 0) return { limit: 'quota', requested: 1, available: 0, waitMs, reason: 'the shared quota' };
    const name = rates[i]!.name;
    const requested = head.demand.amounts[i]!;
    const left = reply.remaining[i]!;
    const reason = rateReason(name, requested, left, waitMs);
    return { limit: name, requested, available: Math.max(0, left), waitMs, reason };
  }

  #cooldownBlocker(waitMs: number): Blocker {
    const reason = cooldownReason(waitMs, this.#host.cooldownReason);
    return { limit: 'cooldown', requested: 1, available: 0, waitMs, reason };
  }

  /**
   * Reject mode: refuses the blocked head if it is new work, and every new work that needs
   * one of its limits, waiting behind a head that may wait (a started task's). Whether the
   * head was refused.
   */
  #refused(head: W, blocker: Blocker): boolean {
    const host = this.#host;
    if (host.mode !== 'reject') return false;
    if (mayRefuse(head.task)) {
      host.refuse(head, blocker);
      return true;
    }
    for (const waiter of host.queue) {
      if (waiter !== head && (waiter.mask & head.mask) !== 0 && mayRefuse(waiter.task))
        host.refuse(waiter, queueBlocker(host.queue.size - 1));
    }
    return false;
  }

  /** A timer at the earliest wait deadline in `batch`, arming the timeouts of those due. */
  #watch(batch: readonly W[]): TimerHandle | undefined {
    let first = Number.POSITIVE_INFINITY;
    for (const w of batch) first = Math.min(first, w.deadline);
    if (!Number.isFinite(first)) return undefined;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, first - this.#clock.now()));
    return this.#clock.setTimeout(() => {
      for (const w of batch) if (w.deadline <= this.#clock.now()) this.#host.arm(w);
    }, delay);
  }
}
