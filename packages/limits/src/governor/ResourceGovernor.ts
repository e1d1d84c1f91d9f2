import {
  abortReason,
  type Clock,
  DisposedError,
  InvalidArgumentError,
  type Logger,
  onAbort,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@tollgate/core';
import { Observable, Subject } from 'rxjs';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import { type ParsedResourceLimits, type ResourceLimits, resolveRates } from '../config/ResourceLimits.js';
import { type MemoryProbe, ProcessMemoryProbe } from '../memory/MemoryProbe.js';
import { createRateLimiter } from '../rates/createRateLimiter.js';
import type { RateLimiter } from '../rates/RateLimiter.js';
import { checkAcquireOptions, checkRunTaskOptions } from './callOptions.js';
import {
  type Demand as BaseDemand,
  type Blocker,
  cooldownReason,
  neverFits,
  parseDemand,
  rateReason,
  slotsReason,
  TASK_LIMIT,
} from './demand.js';
import type { Governor } from './Governor.js';
import { Lease, type LeaseOwner } from './Lease.js';
import { type Inspectable, type LivenessView, livenessView } from './liveness.js';
import { runLeased } from './runLeased.js';
import { assertTaskRunning, currentTask, mayRefuse, type TaskContext } from './taskContext.js';
import type {
  AcquireOptions,
  ActualUsage,
  GovernorEvent,
  LimitStatus,
  ResourceCost,
  ResourceGovernorOptions,
  ResourceStatus,
  RunTaskOptions,
} from './types.js';
import { MAX_BITS, type QueueItem, WaitQueue } from './WaitQueue.js';

/** A parsed cost, with the bit mask of the limits it touches (queue ordering). */
interface Demand extends BaseDemand {
  readonly mask: number;
}

interface Waiter extends QueueItem {
  readonly demand: Demand;
  readonly enqueuedAt: number;
  readonly label: string | undefined;
  readonly held: boolean;
  /** A probe (`waitForResources`) resolves `true` without taking anything. */
  readonly probe: boolean;
  /** The task the acquire was made in: a grant marks it started. */
  readonly task: TaskContext | undefined;
  resolve(value: Lease | boolean): void;
  reject(error: unknown): void;
  reason: string;
  cleanup(): void;
}

/** The cost `checkResourceAvailability` and `waitForResources` ask about by default. */
export const DEFAULT_PROBE_COST: ResourceCost = Object.freeze({ task: 1, requests: 1 });

/**
 * Enforces `ResourceLimits`: concurrency, rate limits, a memory cap and timeouts, in
 * enforce (wait), reject or monitor mode. Every acquire reserves from all applicable
 * limits at once or not at all. Waiters are served in order among those that need the
 * same limits (a waiter never overtakes an earlier one it shares a limit with, so a large
 * request is not starved), with one timer for the earliest moment anyone can proceed.
 *
 * @example
 * const governor = new ResourceGovernor({ maxConcurrentTasks: 5, maxRequestsPerMinute: 60 });
 * const lease = await governor.acquire({ requests: 1, tokens: 1200 });
 * try { const reply = await call(); lease.settle({ tokens: reply.usage.total_tokens }); }
 * finally { lease.release(); }
 */
export class ResourceGovernor implements LeaseOwner, Governor, Inspectable {
  readonly name: string;
  readonly limits: ParsedResourceLimits;
  /** Every governor event, as it happens. */
  readonly events$: Observable<GovernorEvent>;
  /** The current status on subscribe, then a new one after every change (coalesced per tick). */
  readonly status$: Observable<ResourceStatus>;

  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #memoryProbe: MemoryProbe | undefined;
  readonly #limiters: RateLimiter[];
  readonly #maxTasks: number;
  readonly #taskBit: number;
  readonly #approachingRatio: number;
  readonly #queue = new WaitQueue<Waiter>();
  readonly #events = new Subject<GovernorEvent>();
  readonly #changes = new Subject<void>();
  #activeTasks = 0;
  #seq = 0;
  #leaseSeq = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Number.POSITIVE_INFINITY;
  #cooldownUntil = Number.NEGATIVE_INFINITY;
  #cooldownReason = '';
  #changePending = false;
  #pumping = false;
  #pumpAgain = false;
  #disposed = false;

  /**
   * @param limits validated with `parseResourceLimits` (raw objects are parsed here).
   * @throws InvalidLimitsError when `limits` are not valid.
   */
  constructor(limits: ResourceLimits, options: ResourceGovernorOptions = {}) {
    this.limits = parseResourceLimits(limits);
    this.name = options.name ?? 'governor';
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#approachingRatio = options.approachingRatio ?? 0.8;
    const now = this.#clock.now();
    this.#limiters = resolveRates(this.limits).map((rate) => createRateLimiter(rate, now));
    if (this.#limiters.length > MAX_BITS - 2) {
      throw new InvalidArgumentError('rates', `at most ${MAX_BITS - 2} rate limits`, this.#limiters.length);
    }
    this.#taskBit = 1 << this.#limiters.length;
    this.#maxTasks = this.limits.maxConcurrentTasks ?? Number.POSITIVE_INFINITY;
    this.#memoryProbe =
      this.limits.maxMemoryMb === undefined
        ? options.memoryProbe
        : (options.memoryProbe ?? new ProcessMemoryProbe({ clock: this.#clock, logger: this.#logger }));
    this.events$ = this.#events.asObservable();
    this.status$ = new Observable<ResourceStatus>((subscriber) => {
      subscriber.next(this.checkResourceAvailability());
      return this.#changes.subscribe(() => subscriber.next(this.checkResourceAvailability()));
    });
  }

  /** Concurrency slots in use. */
  get activeTasks(): number {
    return this.#activeTasks;
  }

  /** Callers waiting. */
  get queued(): number {
    return this.#queue.size;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The mode the limits select. */
  get mode(): ResourceStatus['mode'] {
    if (!this.limits.enforceLimits) return 'monitor';
    return this.limits.rejectOnLimit ? 'reject' : 'enforce';
  }

  /**
   * Reserves `cost` from every applicable limit at once. In enforce mode it waits (in
   * order) until everything fits; in reject mode it fails at once; in monitor mode it
   * never waits and reports what it would have done.
   *
   * @throws ResourceLimitExceededError at once when the cost can never fit (in enforce and
   *   reject mode), or in reject mode when it does not fit now.
   * @throws ResourceWaitTimeoutError after `timeoutMs` of waiting.
   * @throws AbortError when `signal` aborts first.
   * @throws DisposedError when the governor is disposed.
   */
  acquire(cost: ResourceCost, options?: AcquireOptions): Promise<Lease> {
    try {
      return this.#acquire(cost, checkAcquireOptions(options), false) as Promise<Lease>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A lease now, or `undefined` if `cost` does not fit now (or someone is waiting for the same limits). */
  tryAcquire(cost: ResourceCost, options?: Pick<AcquireOptions, 'label'>): Lease | undefined {
    this.#assertOpen();
    const { label } = checkAcquireOptions(options, 'tryAcquire');
    const demand = this.#demand(cost);
    const now = this.#clock.now();
    if (this.mode === 'monitor') return this.#grantMonitored(demand, now, label);
    if ((demand.mask & this.#queue.liveMask()) !== 0) return undefined;
    if (this.#neverFits(demand) || this.#blocker(demand, now)) return undefined;
    const task = currentTask();
    assertTaskRunning(task);
    return this.#grant(demand, now, now, label, false, task);
  }

  /**
   * Runs `fn` holding one concurrency slot: waits for the slot (and the memory cap), then
   * aborts `fn`'s signal after the task timeout. Everything is released however `fn` ends;
   * on timeout or abort the returned promise rejects at once, even if `fn` ignores its
   * signal.
   *
   * @throws TaskTimeoutError when the task runs past its timeout.
   */
  async runTask<T>(
    fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T,
    options?: RunTaskOptions,
  ): Promise<T> {
    const checked = checkRunTaskOptions(options);
    const {
      taskTimeoutMs = secondsToMs(this.limits.taskTimeoutSeconds),
      cost,
      stopGraceMs,
      ...acquireOptions
    } = checked;
    const lease = await this.acquire({ ...cost, task: 1 }, acquireOptions);
    return runLeased(lease, fn, {
      clock: this.#clock,
      signal: checked.signal,
      taskTimeoutMs,
      stopGraceMs,
      onTimeout: (ms) =>
        this.#emit({
          type: 'timeout',
          kind: 'task',
          afterMs: ms,
          reason: 'task timeout',
          label: checked.label,
        }),
      onStopOverdue: (graceMs) =>
        this.#logger.warn('an aborted task did not stop within its grace period; its slot is released', {
          governor: this.name,
          graceMs,
          label: checked.label,
        }),
    });
  }

  /** No one is admitted for `ms` (a provider said 429). Extends, never shortens, a current cooldown. */
  cooldown(ms: number, reason = 'cooldown'): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new InvalidArgumentError('ms', 'a finite number of at least 0', ms);
    const now = this.#clock.now();
    const until = now + ms;
    if (until <= this.#cooldownUntil) return;
    this.#cooldownUntil = until;
    this.#cooldownReason = reason;
    this.#logger.warn('cooldown', { governor: this.name, ms, reason });
    this.#emit({ type: 'cooldown', until, ms, reason });
    this.#markChanged();
    this.#pump();
  }

  /**
   * Whether `cost` would be admitted now, and everything else the governor knows.
   * @param cost what to ask about. @default { task: 1, requests: 1 }
   */
  checkResourceAvailability(cost: ResourceCost = DEFAULT_PROBE_COST): ResourceStatus {
    const demand = this.#demand(cost);
    const now = this.#clock.now();
    let reason: string | undefined;
    if (this.#disposed) reason = `${this.name} is disposed`;
    else if (this.#neverFits(demand)) reason = this.#neverFits(demand)!.reason;
    else if ((demand.mask & this.#queue.liveMask()) !== 0)
      reason = `${this.#queue.size} caller(s) waiting first`;
    else reason = this.#blocker(demand, now)?.reason;
    const limits: Record<string, LimitStatus> = {};
    const remaining: Record<string, number> = {};
    for (const l of this.#limiters) {
      const left = Math.max(0, l.available(now));
      remaining[l.name] = Math.floor(left);
      limits[l.name] = {
        resource: l.resource,
        limit: l.limit,
        windowMs: l.windowMs,
        capacity: l.capacity,
        algorithm: l.algorithm,
        remaining: left,
      };
    }
    return {
      governor: this.name,
      at: now,
      available: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      mode: this.mode,
      activeTasks: this.#activeTasks,
      maxTasks: Number.isFinite(this.#maxTasks) ? this.#maxTasks : null,
      queued: this.#queue.size,
      remaining,
      limits,
      memoryUsageMb: this.#memoryProbe ? this.#memoryProbe.usageMb() : null,
      memoryLimitMb: this.limits.maxMemoryMb ?? null,
      cooldownUntil: this.#cooldownUntil > now ? this.#cooldownUntil : null,
    };
  }

  /**
   * Resolves `true` as soon as `cost` would be admitted (in its turn), `false` after
   * `timeoutMs`. Takes nothing.
   */
  waitForResources(timeoutMs: number, cost: ResourceCost = DEFAULT_PROBE_COST): Promise<boolean> {
    if (this.#disposed) return Promise.resolve(false);
    try {
      return this.#acquire(
        cost,
        checkAcquireOptions({ timeoutMs }, 'waitForResources'),
        true,
      ) as Promise<boolean>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Rejects every waiter with `DisposedError` and stops the timer. Leases can still be settled and released. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#setTimer(Number.POSITIVE_INFINITY);
    for (const waiter of this.#queue.drain()) {
      waiter.cleanup();
      if (waiter.probe) waiter.resolve(false);
      else waiter.reject(new DisposedError(`Governor '${this.name}'`));
    }
    this.#emit({ type: 'disposed' });
    this.#events.complete();
    this.#changes.complete();
  }

  /**
   * What the shortest-window limit on `resource` has left now (negative in debt), or
   * `undefined` when nothing limits it. Used to compare our view with a provider's.
   */
  remaining(resource: string): number | undefined {
    const limiter = this.#shortestFor(resource);
    return limiter?.available(this.#clock.now());
  }

  /**
   * Records `amount` of `resource` used outside this governor (another process on the
   * same API key, as a provider's rate-limit headers reveal): the shortest-window limit
   * on that resource is charged, so our view of what is left can only go down.
   */
  lowerRemaining(resource: string, amount: number): void {
    if (!(amount > 0) || !Number.isFinite(amount)) return;
    const limiter = this.#shortestFor(resource);
    if (!limiter) return;
    limiter.take(amount, this.#clock.now());
    this.#logger.debug('lowered remaining from provider feedback', { governor: this.name, resource, amount });
    this.#markChanged();
  }

  #shortestFor(resource: string): RateLimiter | undefined {
    let best: RateLimiter | undefined;
    for (const l of this.#limiters)
      if (l.resource === resource && (!best || l.windowMs < best.windowMs)) best = l;
    return best;
  }

  /** @internal called by Lease.settle */
  settleLease(lease: Lease, actual: ActualUsage): void {
    const now = this.#clock.now();
    let refunded = false;
    for (const [resource, value] of Object.entries(actual)) {
      if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
        throw new InvalidArgumentError(`actual.${resource}`, 'a finite number of at least 0', value);
      }
    }
    for (let i = 0; i < this.#limiters.length; i++) {
      const limiter = this.#limiters[i]!;
      const value = actual[limiter.resource];
      if (value === undefined) continue;
      const delta = value - lease.amounts[i]!;
      if (delta === 0) continue;
      const handle = lease.handles[i];
      if (handle) limiter.adjust(handle, delta, now);
      else if (delta > 0) lease.handles[i] = limiter.take(delta, now);
      lease.amounts[i] = value;
      if (delta < 0) refunded = true;
    }
    const unheld = this.#endHold(lease, now);
    this.#emit({ type: 'settled', leaseId: lease.id, reserved: lease.cost, actual });
    this.#markChanged();
    if (refunded || unheld) this.#pump();
  }

  /** @internal called by Lease.release */
  releaseLease(lease: Lease): void {
    this.#activeTasks -= lease.slots;
    // Released unsettled, a held lease ends its hold: the call is over all the same. The clock
    // is read only when needed (most releases end no hold and nobody listens).
    const unheld = lease.held && this.#endHold(lease, this.#clock.now());
    if (this.#events.observed)
      this.#emit({ type: 'released', leaseId: lease.id, heldMs: this.#clock.now() - lease.acquiredAt });
    this.#markChanged();
    if (lease.slots > 0 || unheld) this.#pump();
  }

  /** @internal called by Lease.endHold */
  endHoldLease(lease: Lease): void {
    if (!this.#endHold(lease, this.#clock.now())) return;
    this.#markChanged();
    this.#pump();
  }

  /** Re-anchors a held lease's reservations at `now`; whether it was held. */
  #endHold(lease: Lease, now: number): boolean {
    if (!lease.held) return false;
    lease.held = false;
    for (let i = 0; i < this.#limiters.length; i++) {
      const handle = lease.handles[i];
      if (handle) this.#limiters[i]!.reanchor(handle, now);
    }
    return true;
  }

  #acquire(cost: ResourceCost, options: AcquireOptions, probe: boolean): Promise<Lease | boolean> {
    this.#assertOpen();
    const demand = this.#demand(cost);
    const { signal, label } = options;
    if (signal?.aborted) throw abortReason(signal);
    const now = this.#clock.now();
    const held = options.holdUntilSettled === true;
    const task = currentTask();
    assertTaskRunning(task);
    if (this.mode === 'monitor') {
      return Promise.resolve(probe ? true : this.#grantMonitored(demand, now, label, held));
    }
    const blocked = (demand.mask & this.#queue.liveMask()) !== 0 || now < this.#cooldownUntil;
    const blocker = this.#blocker(demand, now);
    if (!blocked && !blocker)
      return Promise.resolve(probe ? true : this.#grant(demand, now, now, label, held, task));
    // What fits now can fit; only the rest is checked against the limits' capacities.
    const never = this.#neverFits(demand);
    if (never) {
      if (probe) return Promise.resolve(false);
      const b = { ...never, waitMs: Number.POSITIVE_INFINITY };
      this.#emitRejected(demand, b, label);
      throw new ResourceLimitExceededError({ ...b, retryAfterMs: b.waitMs });
    }
    if (this.mode === 'reject' && !probe && mayRefuse(task)) {
      const b = blocker ?? {
        limit: 'queue',
        requested: 1,
        available: 0,
        waitMs: undefined,
        reason: `${this.#queue.size} caller(s) waiting first`,
      };
      this.#emitRejected(demand, b, label);
      throw new ResourceLimitExceededError({ ...b, retryAfterMs: b.waitMs });
    }
    return this.#enqueue(
      demand,
      now,
      options,
      probe,
      task,
      blocker?.reason ?? 'waiting behind earlier callers',
    );
  }

  #enqueue(
    demand: Demand,
    now: number,
    options: AcquireOptions,
    probe: boolean,
    task: TaskContext | undefined,
    reason: string,
  ) {
    const { signal, label, priority = 0 } = options;
    const timeoutMs = options.timeoutMs ?? this.limits.resourceWaitTimeoutSeconds * 1000;
    return new Promise<Lease | boolean>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let unsubscribe: (() => void) | undefined;
      const aborted = () => {
        if (waiter.done) return;
        this.#queue.remove(waiter);
        waiter.cleanup();
        this.#emit({ type: 'aborted', cost: demand.cost, label });
        reject(abortReason(signal!));
        this.#markChanged();
        this.#pump();
      };
      const waiter: Waiter = {
        seq: this.#seq++,
        priority,
        mask: demand.mask,
        done: false,
        demand,
        enqueuedAt: now,
        label,
        held: options.holdUntilSettled === true,
        probe,
        task,
        resolve,
        reject,
        reason,
        cleanup: () => {
          if (timer !== undefined) this.#clock.clearTimeout(timer);
          unsubscribe?.();
        },
      };
      if (Number.isFinite(timeoutMs)) {
        timer = this.#clock.setTimeout(() => {
          if (waiter.done) return;
          this.#queue.remove(waiter);
          unsubscribe?.();
          this.#emit({ type: 'timeout', kind: 'wait', afterMs: timeoutMs, reason: waiter.reason, label });
          if (probe) resolve(false);
          else reject(new ResourceWaitTimeoutError(timeoutMs, waiter.reason));
          this.#markChanged();
          this.#pump();
        }, timeoutMs);
      }
      if (signal) unsubscribe = onAbort(signal, aborted);
      this.#queue.push(waiter);
      this.#emit({ type: 'queued', cost: demand.cost, queued: this.#queue.size, reason, label });
      this.#markChanged();
      this.#pump();
    });
  }

  /** Admits every waiter that can go, in order, then sets the one timer for the next. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#scan();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #scan(): void {
    if (this.#disposed || this.#queue.size === 0) {
      this.#setTimer(Number.POSITIVE_INFINITY);
      return;
    }
    const now = this.#clock.now();
    if (now < this.#cooldownUntil) {
      this.#setTimer(this.#cooldownUntil);
      return;
    }
    const live = this.#queue.liveMask();
    let claimed = 0;
    let wake = Number.POSITIVE_INFINITY;
    for (const waiter of this.#queue) {
      if ((waiter.mask & claimed) === 0) {
        const blocker = this.#blocker(waiter.demand, now);
        if (!blocker) {
          this.#queue.remove(waiter);
          waiter.cleanup();
          if (waiter.probe) waiter.resolve(true);
          else
            waiter.resolve(
              this.#grant(waiter.demand, now, waiter.enqueuedAt, waiter.label, waiter.held, waiter.task),
            );
          continue;
        }
        waiter.reason = blocker.reason;
        if (blocker.waitMs !== undefined) wake = Math.min(wake, now + blocker.waitMs);
      }
      // Whoever comes later and shares a limit with this waiter must wait behind it.
      claimed |= waiter.mask;
      if ((claimed & live) === live) break;
    }
    this.#setTimer(wake);
  }

  #setTimer(due: number): void {
    if (due === this.#timerDue) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (due === Number.POSITIVE_INFINITY) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Number.POSITIVE_INFINITY;
      this.#pump();
    }, due - this.#clock.now());
  }

  #grant(
    demand: Demand,
    now: number,
    since: number,
    label: string | undefined,
    held = false,
    task?: TaskContext,
  ): Lease {
    if (task) task.started = true;
    const before = this.#events.observed ? this.#limiters.map((l) => l.available(now)) : undefined;
    const handles: (object | undefined)[] = new Array(this.#limiters.length);
    for (let i = 0; i < this.#limiters.length; i++) {
      const amount = demand.amounts[i]!;
      if (amount > 0) handles[i] = this.#limiters[i]!.take(amount, now, held);
    }
    this.#activeTasks += demand.slots;
    const lease = new Lease(
      this,
      ++this.#leaseSeq,
      demand.cost,
      now,
      handles,
      demand.amounts, // each acquire parses its own demand: the lease may keep it
      demand.slots,
      held,
    );
    if (before) {
      this.#emit({ type: 'acquired', leaseId: lease.id, cost: demand.cost, waitedMs: now - since, label });
      for (let i = 0; i < this.#limiters.length; i++) {
        if (demand.amounts[i]! > 0) this.#checkApproaching(this.#limiters[i]!, before[i]!, now);
      }
    }
    this.#markChanged();
    return lease;
  }

  #grantMonitored(demand: Demand, now: number, label: string | undefined, held = false): Lease {
    if (this.#events.observed) {
      const would = this.#neverFits(demand) ?? this.#blocker(demand, now);
      if (would)
        this.#emit({
          type: 'would-block',
          cost: demand.cost,
          limit: would.limit,
          reason: would.reason,
          label,
        });
    }
    return this.#grant(demand, now, now, label, held);
  }

  #blocker(demand: Demand, now: number): Blocker | undefined {
    if (now < this.#cooldownUntil) {
      const waitMs = this.#cooldownUntil - now;
      return {
        limit: 'cooldown',
        requested: 1,
        available: 0,
        waitMs,
        reason: cooldownReason(waitMs, this.#cooldownReason),
      };
    }
    if (demand.slots > 0) {
      const free = this.#maxTasks - this.#activeTasks;
      if (demand.slots > free) {
        return {
          limit: TASK_LIMIT,
          requested: demand.slots,
          available: Math.max(0, free),
          waitMs: undefined,
          reason: slotsReason(this.#activeTasks, this.#maxTasks),
        };
      }
      const maxMb = this.limits.maxMemoryMb;
      if (maxMb !== undefined && this.#memoryProbe) {
        const used = this.#memoryProbe.usageMb();
        if (used > maxMb) {
          return {
            limit: 'memory',
            requested: demand.slots,
            available: Math.max(0, maxMb - used),
            waitMs: this.#memoryProbe.refreshMs,
            reason: `memory: ${used.toFixed(0)} MB in use, cap ${maxMb} MB`,
          };
        }
      }
    }
    let worst: Blocker | undefined;
    for (let i = 0; i < this.#limiters.length; i++) {
      const amount = demand.amounts[i]!;
      if (amount === 0) continue;
      const limiter = this.#limiters[i]!;
      const waitMs = limiter.waitTime(amount, now);
      if (waitMs > 0 && (!worst || waitMs > worst.waitMs!)) {
        const available = limiter.available(now);
        worst = {
          limit: limiter.name,
          requested: amount,
          available: Math.max(0, available),
          waitMs,
          reason: rateReason(limiter.name, amount, available, waitMs),
        };
      }
    }
    return worst;
  }

  /** The first limit `demand` can never pass, however long it waits. */
  #neverFits(demand: Demand): Omit<Blocker, 'waitMs'> | undefined {
    return neverFits(demand, this.#limiters, this.#maxTasks);
  }

  #demand(cost: ResourceCost): Demand {
    const { amounts, slots } = parseDemand(cost, this.#limiters);
    let mask = slots > 0 && (Number.isFinite(this.#maxTasks) || this.#memoryProbe) ? this.#taskBit : 0;
    for (let i = 0; i < amounts.length; i++) if (amounts[i]! > 0) mask |= 1 << i;
    // A cost no limit cares about still queues in order behind other such costs (in a cooldown).
    if (mask === 0) mask = this.#taskBit << 1;
    return { cost, amounts, slots, mask };
  }

  /** Emits `limit-approaching` when a take moves a limit's usage across the threshold. */
  #checkApproaching(limiter: RateLimiter, availableBefore: number, now: number): void {
    const threshold = this.#approachingRatio * limiter.capacity;
    const usedBefore = limiter.capacity - availableBefore;
    const used = limiter.capacity - limiter.available(now);
    if (usedBefore < threshold && used >= threshold) {
      this.#emit({
        type: 'limit-approaching',
        limit: limiter.name,
        used,
        max: limiter.capacity,
        ratio: used / limiter.capacity,
      });
    }
  }

  /** `retryAfterMs` is the blocker's wait: `Infinity` never fits, `undefined` waits for a release. */
  #emitRejected(demand: Demand, blocker: Blocker, label?: string): void {
    this.#logger.debug('rejected', { governor: this.name, limit: blocker.limit, reason: blocker.reason });
    this.#emit({
      type: 'rejected',
      cost: demand.cost,
      limit: blocker.limit,
      reason: blocker.reason,
      retryAfterMs: blocker.waitMs,
      label,
    });
  }

  /** @internal see {@link LivenessView}. */
  [livenessView](): LivenessView {
    const head = this.#queue.head;
    const now = this.#clock.now();
    const blocker = head && this.#blocker(head.demand, now);
    const headWaitMs = head && (blocker ? (blocker.waitMs ?? Number.POSITIVE_INFINITY) : 0);
    return {
      disposed: this.#disposed,
      waiting: this.#queue.size,
      wakeAt: Number.isFinite(this.#timerDue) ? this.#timerDue : undefined,
      headWaitMs,
      activeTasks: this.#activeTasks,
      busy: false,
      footprint: this.#queue.footprint,
    };
  }

  #emit(event: DistributiveOmit<GovernorEvent, 'governor' | 'at'>): void {
    if (!this.#events.observed) return;
    this.#events.next({ ...event, governor: this.name, at: this.#clock.now() } as GovernorEvent);
  }

  #markChanged(): void {
    if (this.#changePending || !this.#changes.observed) return;
    this.#changePending = true;
    queueMicrotask(() => {
      this.#changePending = false;
      if (!this.#disposed) this.#changes.next();
    });
  }

  #assertOpen(): void {
    if (this.#disposed) throw new DisposedError(`Governor '${this.name}'`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}
