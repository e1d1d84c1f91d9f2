import { randomUUID } from 'node:crypto';
import {
  abortReason,
  type Clock,
  DisposedError,
  InvalidArgumentError,
  type Logger,
  onAbort,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  type TimerHandle,
} from '@tollgate/core';
import { Observable, Subject, type Subscription } from 'rxjs';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import { type ParsedResourceLimits, type ResourceLimits, resolveRates } from '../config/ResourceLimits.js';
import { checkAcquireOptions, checkRunTaskOptions } from '../governor/callOptions.js';
import {
  type Blocker,
  cooldownReason,
  neverFits,
  parseDemand,
  rateReason,
  slotsReason,
  TASK_LIMIT,
} from '../governor/demand.js';
import type { Governor, GovernorLease } from '../governor/Governor.js';
import { type Inspectable, type LivenessView, livenessView } from '../governor/liveness.js';
import { DEFAULT_PROBE_COST } from '../governor/ResourceGovernor.js';
import { runLeased } from '../governor/runLeased.js';
import { assertTaskRunning, currentTask, mayRefuse, type TaskContext } from '../governor/taskContext.js';
import type {
  AcquireOptions,
  ActualUsage,
  GovernorEvent,
  LimitStatus,
  ResourceCost,
  ResourceStatus,
  RunTaskOptions,
} from '../governor/types.js';
import { MAX_BITS, type QueueItem, WaitQueue } from '../governor/WaitQueue.js';
import { type MemoryProbe, ProcessMemoryProbe } from '../memory/MemoryProbe.js';
import { resolveDistributedOptions } from './distributedOptions.js';
import { StoreUnavailableError } from './errors.js';
import { LocalFallback } from './LocalFallback.js';
import type { AcquireReply, QuotaConfig, QuotaStore, StoreRequest } from './QuotaStore.js';
import { MAX_TIMER_MS } from './timerMs.js';

/**
 * What a governor does while its store cannot be reached: `fail-closed` admits nobody
 * (waiters wait, or fail with `StoreUnavailableError` in reject mode); `fail-open` admits
 * everyone and says so; `local-fallback` enforces `localShare` of every limit in this
 * process until the store is back.
 */
export type StoreDownPolicy = 'fail-closed' | 'fail-open' | 'local-fallback';

/** Options of {@link DistributedGovernor}, checked by its constructor. */
export interface DistributedGovernorOptions {
  readonly store: QuotaStore;
  /** The shared quota's name: every process using it must give the same name and limits. No `{` or `}`. */
  readonly quota: string;
  /** @default 'fail-closed' */
  readonly onStoreDown?: StoreDownPolicy | undefined;
  /** Share of each limit enforced locally under `local-fallback` (e.g. 1 / number of processes). In (0, 1]. @default 0.25 */
  readonly localShare?: number | undefined;
  /** A slot whose process stops renewing it is free after this long. Greater than 0, at most 2^31-1. @default 10_000 */
  readonly slotTtlMs?: number | undefined;
  /** A held reservation whose process died counts from this long after it was taken. Greater than 0, at most 2^31-1. @default 120_000 */
  readonly holdTtlMs?: number | undefined;
  /** See `QuotaConfig.recoveryHoldMs`. From 0 to 2^31-1. @default 0 */
  readonly recoveryHoldMs?: number | undefined;
  /** Added to each computed wait, so processes woken together do not all retry at once. From 0 to 60_000. @default 3 */
  readonly jitterMs?: number | undefined;
  /** Waiters sent to the store in one call. An integer, at least 1. @default 64 */
  readonly batchSize?: number | undefined;
  /** How often a down store is probed. Greater than 0, at most 2^31-1. @default 500 */
  readonly retryMs?: number | undefined;
  /** @default 'distributed' */
  readonly name?: string | undefined;
  /** Local timers (waits, timeouts, renewals). The store keeps its own clock. @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** @default Math.random */
  readonly random?: (() => number) | undefined;
  /**
   * Reads this process's memory for `maxMemoryMb` (memory is each process's own, never
   * shared). @default a ProcessMemoryProbe when `maxMemoryMb` is set
   */
  readonly memoryProbe?: MemoryProbe | undefined;
}

interface Waiter extends QueueItem {
  readonly cost: ResourceCost;
  readonly request: StoreRequest;
  readonly label: string | undefined;
  /** The task the acquire was made in: a grant marks it started. */
  readonly task: TaskContext | undefined;
  readonly enqueuedAt: number;
  /** When its wait timeout ends, clock time (`Infinity` for none). */
  readonly deadline: number;
  readonly resolve: (lease: GovernorLease) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
  queuedEmitted: boolean;
  lastReason?: string;
  armTimeout?: () => void;
  /** Set while the local fallback serves it; aborted when it leaves that path. */
  forwarded?: AbortController | undefined;
}

/**
 * A governor whose quota lives in a `QuotaStore` shared by many processes (Redis). Within
 * the process, waiters keep FIFO order (by priority); the head of the queue, with up to
 * `batchSize` waiters behind it, is sent to the store in one atomic call that grants them
 * in order until one does not fit, and tells how long until it would. The pump then sleeps
 * exactly that long (plus a little jitter), or less when a settle or release anywhere
 * publishes a wake-up: no polling.
 *
 * Slots are leases with a TTL, renewed while held, so a killed process frees its slots
 * within `slotTtlMs`. A 429's cooldown is stored too: every process backs off together.
 * `checkResourceAvailability` answers from what the last store reply said.
 */
export class DistributedGovernor implements Governor, Inspectable {
  readonly name: string;
  readonly limits: ParsedResourceLimits;
  readonly config: QuotaConfig;
  readonly events$: Observable<GovernorEvent>;
  readonly status$: Observable<ResourceStatus>;
  readonly store: QuotaStore;
  readonly #policy: StoreDownPolicy;
  readonly #jitterMs: number;
  readonly #batchSize: number;
  readonly #retryMs: number;
  readonly #maxSleepMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #memoryProbe: MemoryProbe | undefined;
  readonly #fallback: LocalFallback | undefined;
  readonly #tag = randomUUID().slice(0, 8);
  readonly #events = new Subject<GovernorEvent>();
  readonly #changes = new Subject<void>();
  readonly #queue = new WaitQueue<Waiter>();
  readonly #held = new Map<string, DistributedLease>();
  readonly #unsubscribe: () => void;
  readonly #availability: Subscription;
  #remaining: number[];
  #slotsUsed = 0;
  #cooldownUntil = 0;
  #cooldownReason = 'a cooldown';
  #activeTasks = 0;
  #seq = 0;
  #leaseSeq = 0;
  #pumping = false;
  #kickPending = false;
  /** Pending sleeps of the pump: each wake-up, with its clock time. */
  readonly #sleepers = new Map<() => void, number>();
  #renewTimer: TimerHandle | undefined;
  #probeTimer: TimerHandle | undefined;
  #down = false;
  #downSince = 0;
  #disposed = false;

  constructor(limits: ResourceLimits, options: DistributedGovernorOptions) {
    const o = resolveDistributedOptions(options);
    this.limits = parseResourceLimits(limits);
    this.store = o.store;
    this.name = o.name;
    this.#policy = o.onStoreDown;
    this.#jitterMs = o.jitterMs;
    this.#batchSize = o.batchSize;
    this.#retryMs = o.retryMs;
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#random = o.random;
    this.#memoryProbe =
      this.limits.maxMemoryMb === undefined
        ? o.memoryProbe
        : (o.memoryProbe ?? new ProcessMemoryProbe({ clock: this.#clock, logger: this.#logger }));
    const rates = resolveRates(this.limits).map((r) => ({
      name: r.name,
      resource: r.resource,
      algorithm: r.algorithm,
      limit: r.limit,
      windowMs: r.windowMs,
      capacity: r.algorithm === 'sliding-window' ? r.limit : r.burst,
    }));
    // The same bound as the in-process governor, so one set of limits works on both.
    if (rates.length > MAX_BITS - 2)
      throw new InvalidArgumentError('rates', `at most ${MAX_BITS - 2} rate limits`, rates.length);
    this.config = {
      quota: o.quota,
      rates,
      maxSlots: this.limits.maxConcurrentTasks ?? null,
      slotTtlMs: o.slotTtlMs,
      holdTtlMs: o.holdTtlMs,
      recoveryHoldMs: o.recoveryHoldMs,
    };
    this.#remaining = rates.map((r) => r.capacity);
    this.#fallback =
      o.onStoreDown === 'local-fallback'
        ? new LocalFallback(this.limits, this.config, {
            share: o.localShare,
            clock: this.#clock,
            logger: this.#logger,
            name: `${this.name}:local-fallback`,
          })
        : undefined;
    this.#maxSleepMs = Math.max(50, Math.min(60_000, ...rates.map((r) => r.windowMs)));
    this.events$ = this.#events.asObservable();
    this.status$ = new Observable<ResourceStatus>((subscriber) => {
      subscriber.next(this.checkResourceAvailability());
      const sub = this.#changes.subscribe({
        next: () => subscriber.next(this.checkResourceAvailability()),
        complete: () => subscriber.complete(),
      });
      return () => sub.unsubscribe();
    });
    this.#unsubscribe = this.store.subscribe(this.config, () => this.#wake());
    this.#availability = this.store.available$.subscribe((up) => {
      if (!up) this.#markDown(new StoreUnavailableError(this.store.kind, 'connection lost'));
    });
  }

  get activeTasks(): number {
    return this.#activeTasks;
  }

  get queued(): number {
    return this.#queue.size;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Whether the store is unreachable now. */
  get storeDown(): boolean {
    return this.#down;
  }

  get mode(): ResourceStatus['mode'] {
    if (!this.limits.enforceLimits) return 'monitor';
    return this.limits.rejectOnLimit ? 'reject' : 'enforce';
  }

  acquire(cost: ResourceCost, options?: AcquireOptions): Promise<GovernorLease> {
    try {
      return this.#acquire(cost, checkAcquireOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async runTask<T>(
    fn: (signal: AbortSignal, lease: GovernorLease) => Promise<T> | T,
    options?: RunTaskOptions,
  ): Promise<T> {
    const checked = checkRunTaskOptions(options);
    const seconds = this.limits.taskTimeoutSeconds;
    const {
      taskTimeoutMs = seconds === undefined ? undefined : seconds * 1000,
      cost,
      stopGraceMs,
      ...rest
    } = checked;
    const lease = await this.acquire({ ...cost, task: 1 }, rest);
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

  cooldown(ms: number, reason = 'cooldown'): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new InvalidArgumentError('ms', 'a finite number of at least 0', ms);
    const until = this.#clock.now() + ms;
    // As in-process: only a cooldown that extends the current one is news.
    if (until <= this.#cooldownUntil) return;
    this.#cooldownUntil = until;
    this.#cooldownReason = reason;
    this.#emit({ type: 'cooldown', until, ms, reason });
    this.#logger.warn('cooldown', { governor: this.name, ms, reason });
    this.store.cooldown(this.config, ms).catch((error: unknown) => this.#storeError(error, 'cooldown'));
    this.#markChanged();
  }

  checkResourceAvailability(cost: ResourceCost = DEFAULT_PROBE_COST): ResourceStatus {
    const now = this.#clock.now();
    const { amounts, slots } = parseDemand(cost, this.config.rates);
    const memory = slots > 0 ? this.#overMemory() : undefined;
    let reason: string | undefined;
    if (this.#disposed) reason = `${this.name} is disposed`;
    else if (this.#down && this.#policy === 'fail-closed')
      reason = `quota store '${this.store.kind}' is unavailable`;
    else if (this.#cooldownUntil > now)
      reason = cooldownReason(this.#cooldownUntil - now, this.#cooldownReason);
    else if (this.#queue.size > 0) reason = `${this.#queue.size} caller(s) waiting first`;
    else if (memory) reason = memory;
    else if (this.config.maxSlots !== null && slots > 0 && this.#slotsUsed + slots > this.config.maxSlots)
      reason = slotsReason(this.#slotsUsed, this.config.maxSlots);
    else {
      const i = this.config.rates.findIndex((_, k) => (amounts[k] ?? 0) > (this.#remaining[k] ?? 0));
      if (i >= 0) reason = rateReason(this.config.rates[i]!.name, amounts[i]!, this.#remaining[i]!);
    }
    const limits: Record<string, LimitStatus> = {};
    const remaining: Record<string, number> = {};
    this.config.rates.forEach((r, i) => {
      const left = Math.max(0, this.#remaining[i]!);
      remaining[r.name] = Math.floor(left);
      limits[r.name] = {
        resource: r.resource,
        limit: r.limit,
        windowMs: r.windowMs,
        capacity: r.capacity,
        algorithm: r.algorithm,
        remaining: left,
      };
    });
    return {
      governor: this.name,
      at: now,
      available: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      mode: this.mode,
      activeTasks: this.#activeTasks,
      maxTasks: this.config.maxSlots,
      queued: this.#queue.size,
      remaining,
      limits,
      memoryUsageMb: this.#memoryProbe ? this.#memoryProbe.usageMb() : null,
      memoryLimitMb: this.limits.maxMemoryMb ?? null,
      cooldownUntil: this.#cooldownUntil > now ? this.#cooldownUntil : null,
    };
  }

  /** Asks the store for the quota's state now, and updates what `checkResourceAvailability` says. */
  async refresh(): Promise<ResourceStatus> {
    const status = await this.store.status(this.config);
    this.#remaining = [...status.remaining];
    this.#slotsUsed = status.slotsUsed;
    this.#cooldownUntil = Math.max(this.#cooldownUntil, this.#toLocal(status.cooldownUntil, status.now));
    this.#markUp();
    this.#markChanged();
    return this.checkResourceAvailability();
  }

  async waitForResources(timeoutMs: number, cost: ResourceCost = DEFAULT_PROBE_COST): Promise<boolean> {
    checkAcquireOptions({ timeoutMs }, 'waitForResources');
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      if (this.#disposed) return false;
      try {
        if ((await this.refresh()).available || this.checkResourceAvailability(cost).available) return true;
      } catch {
        // unreachable store: not available; try again until the deadline
      }
      const left = deadline - this.#clock.now();
      if (left <= 0) return false;
      await this.#sleep(Math.min(left, this.#retryMs));
    }
  }

  remaining(resource: string): number | undefined {
    const i = this.#shortest(resource);
    return i < 0 ? undefined : this.#remaining[i];
  }

  lowerRemaining(resource: string, amount: number): void {
    if (!(amount > 0)) return;
    const i = this.#shortest(resource);
    if (i < 0) return;
    this.#remaining[i] = this.#remaining[i]! - amount;
    this.store.take(this.config, i, amount).catch((error: unknown) => this.#storeError(error, 'take'));
    this.#markChanged();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const waiter of this.#queue.drain()) {
      waiter.cleanup();
      waiter.reject(new DisposedError(`Governor '${this.name}'`));
    }
    this.#wake();
    if (this.#renewTimer !== undefined) this.#clock.clearTimeout(this.#renewTimer);
    if (this.#probeTimer !== undefined) this.#clock.clearTimeout(this.#probeTimer);
    this.#unsubscribe();
    this.#availability.unsubscribe();
    this.#fallback?.dispose();
    this.#emit({ type: 'disposed' });
    this.#events.complete();
    this.#changes.complete();
  }

  /** @internal */
  settleLease(lease: DistributedLease, actual: ActualUsage): void {
    for (const [resource, value] of Object.entries(actual))
      if (value !== undefined && !(value >= 0 && Number.isFinite(value)))
        throw new InvalidArgumentError(`actual.${resource}`, 'a finite number of at least 0', value);
    const values = this.config.rates.map((r) => actual[r.resource]);
    this.#emit({ type: 'settled', leaseId: lease.id, reserved: lease.cost, actual });
    if (lease.local) lease.local.settle(this.#fallback?.usage(values) ?? {});
    else if (lease.stored)
      this.store
        .settle(this.config, lease.storeId, lease.amounts, values)
        .then(() => this.#wake())
        .catch((error: unknown) => this.#storeError(error, 'settle'));
  }

  /** @internal */
  endHoldLease(lease: DistributedLease): void {
    if (lease.local) lease.local.endHold();
    else if (lease.stored)
      this.store
        .release(this.config, lease.storeId, 0, true, lease.amounts)
        .then(() => this.#wake())
        .catch((error: unknown) => this.#storeError(error, 'release'));
  }

  /** @internal */
  releaseLease(lease: DistributedLease): void {
    this.#activeTasks -= lease.slots;
    this.#held.delete(lease.storeId);
    this.#emit({ type: 'released', leaseId: lease.id, heldMs: this.#clock.now() - lease.acquiredAt });
    if (lease.local) lease.local.release();
    else if (lease.stored && (lease.slots > 0 || lease.holding))
      this.store
        .release(this.config, lease.storeId, lease.slots, lease.holding, lease.amounts)
        .then(() => this.#wake())
        .catch((error: unknown) => this.#storeError(error, 'release'));
    this.#markChanged();
    this.#wake();
  }

  #acquire(cost: ResourceCost, options: AcquireOptions): Promise<GovernorLease> {
    if (this.#disposed) throw new DisposedError(`Governor '${this.name}'`);
    const { signal, label, priority = 0 } = options;
    if (signal?.aborted) throw abortReason(signal);
    const { amounts, slots } = parseDemand(cost, this.config.rates);
    const never = neverFits(
      { amounts, slots },
      this.config.rates,
      this.config.maxSlots ?? Number.POSITIVE_INFINITY,
    );
    if (never && this.mode !== 'monitor') throw this.#refuse(cost, { ...never, waitMs: Infinity }, label);
    const task = currentTask();
    assertTaskRunning(task);
    // Reject mode refuses new work behind waiters, as in-process: they go first.
    if (this.mode === 'reject' && this.#queue.head?.queuedEmitted && mayRefuse(task)) {
      const reason = `${this.#queue.size} caller(s) waiting first`;
      const queued = { limit: 'queue', requested: 1, available: 0, waitMs: undefined, reason };
      throw this.#refuse(cost, queued, label);
    }
    const held = options.holdUntilSettled === true;
    const request: StoreRequest = { leaseId: `${this.#tag}:${++this.#leaseSeq}`, slots, held, amounts };
    if (this.mode === 'monitor') return Promise.resolve(this.#grantMonitored(cost, request, label));
    const timeoutMs = options.timeoutMs ?? this.limits.resourceWaitTimeoutSeconds * 1000;
    return new Promise<GovernorLease>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let unsubscribe: (() => void) | undefined;
      const waiter: Waiter = {
        seq: ++this.#seq,
        mask: 1, // one quota: every waiter of this process is served in order
        cost,
        request,
        priority,
        label,
        task,
        enqueuedAt: this.#clock.now(),
        deadline: this.#clock.now() + timeoutMs,
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) this.#clock.clearTimeout(timer);
          unsubscribe?.();
        },
        queuedEmitted: false,
        done: false,
      };
      // The wait timer is armed only once the store says this waiter must wait (#noteQueued):
      // most acquires are granted by their first store call and never need one.
      waiter.armTimeout = () => {
        if (timer !== undefined || waiter.done || !Number.isFinite(timeoutMs)) return;
        const left = Math.max(0, waiter.enqueuedAt + timeoutMs - this.#clock.now());
        timer = this.#clock.setTimeout(() => {
          const reason = waiter.lastReason ?? 'waiting for the shared quota';
          this.#emit({ type: 'timeout', kind: 'wait', afterMs: timeoutMs, reason, label });
          this.#drop(waiter, new ResourceWaitTimeoutError(timeoutMs, reason), undefined);
        }, left);
      };
      if (signal) unsubscribe = onAbort(signal, () => this.#drop(waiter, abortReason(signal), 'aborted'));
      this.#queue.push(waiter);
      this.#markChanged();
      this.#kick();
    });
  }

  /** Says why `cost` is refused (a `rejected` event) and returns the error to throw. */
  #refuse(cost: ResourceCost, blocker: Blocker, label: string | undefined): ResourceLimitExceededError {
    const { waitMs, ...rest } = blocker;
    this.#emit({
      type: 'rejected',
      cost,
      limit: rest.limit,
      reason: rest.reason,
      retryAfterMs: waitMs,
      label,
    });
    return new ResourceLimitExceededError({ ...rest, retryAfterMs: waitMs });
  }

  #drop(waiter: Waiter, error: unknown, event: 'aborted' | undefined): void {
    if (waiter.done) return;
    this.#queue.remove(waiter);
    waiter.cleanup();
    waiter.forwarded?.abort();
    if (event === 'aborted') this.#emit({ type: 'aborted', cost: waiter.cost, label: waiter.label });
    waiter.reject(error);
    this.#markChanged();
    this.#wake();
  }

  #kick(): void {
    if (this.#pumping || this.#kickPending) return;
    // Start on the next microtask: callers that enqueue in the same tick go in one batch.
    this.#kickPending = true;
    queueMicrotask(() => {
      this.#kickPending = false;
      if (!this.#pumping) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#queue.size > 0 && !this.#disposed) {
        if (this.#down && this.#policy === 'fail-open') {
          this.#admitOpen(this.#queue.head!);
          continue;
        }
        if (this.#down && this.#policy === 'local-fallback') {
          // The fallback serves the whole queue; the pump resumes when the store is back.
          this.#forwardAll();
          break;
        }
        const localNow = this.#clock.now();
        if (this.#cooldownUntil > localNow) {
          const head = this.#queue.head!;
          const blocker = this.#cooldownBlocker(this.#cooldownUntil - localNow);
          if (this.mode === 'reject' && this.#refuseNewWork(head, blocker)) continue;
          this.#noteQueued(head, blocker.reason);
          await this.#sleep(blocker.waitMs!);
          continue;
        }
        const batch = this.#batch();
        const overMemory = this.#overMemory();
        if (overMemory) {
          // Memory is this process's own: waiters that need a slot wait here, in order.
          const first = batch.findIndex((w) => w.request.slots > 0);
          if (first === 0) {
            await this.#blockOnMemory(batch[0]!, overMemory);
            continue;
          }
          if (first > 0) batch.length = first;
        }
        let reply: AcquireReply;
        // A store call can take up to its command timeout: a waiter whose own wait ends
        // first hears at its deadline, not when the store answers.
        const watchdog = this.#watch(batch);
        try {
          reply = await this.store.acquire(
            this.config,
            batch.map((w) => w.request),
          );
          this.#markUp();
        } catch (error) {
          this.#storeError(error, 'acquire');
          // A store marked down is the policy's to serve; a store that answers with an
          // error (a failing script) is retried after retryMs, waiters' timeouts running.
          if (this.#policy !== 'fail-closed' && this.#down) continue;
          const head = this.#queue.head;
          if (head && this.mode === 'reject')
            this.#drop(
              head,
              StoreUnavailableError.is(error)
                ? error
                : new StoreUnavailableError(this.store.kind, String(error)),
              undefined,
            );
          else {
            for (const w of this.#queue) w.armTimeout?.();
            await this.#sleep(this.#retryMs);
          }
          continue;
        } finally {
          if (watchdog !== undefined) this.#clock.clearTimeout(watchdog);
        }
        const receivedAt = this.#clock.now();
        this.#remaining = [...reply.remaining];
        this.#slotsUsed = reply.slotsUsed;
        if (reply.cooldownUntil > reply.now)
          this.#cooldownUntil = Math.max(this.#cooldownUntil, this.#toLocal(reply.cooldownUntil, reply.now));
        for (let k = 0; k < reply.granted; k++) this.#grant(batch[k]!, reply.now, receivedAt);
        if (reply.granted < batch.length) {
          const head = batch[reply.granted]!;
          if (head.done) continue;
          const blocker = this.#blockerOf(reply, head);
          if (this.mode === 'reject' && this.#refuseNewWork(head, blocker)) continue;
          this.#noteQueued(head, blocker.reason);
          await this.#sleep(this.#waitFor(reply) + this.#random() * this.#jitterMs);
        }
        this.#markChanged();
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** The reason a slot cannot be taken for memory now, if any. */
  #overMemory(): string | undefined {
    const maxMb = this.limits.maxMemoryMb;
    if (maxMb === undefined || !this.#memoryProbe) return undefined;
    const used = this.#memoryProbe.usageMb();
    return used > maxMb ? `memory: ${used.toFixed(0)} MB in use, cap ${maxMb} MB` : undefined;
  }

  async #blockOnMemory(head: Waiter, reason: string): Promise<void> {
    const retryAfterMs = this.#memoryProbe!.refreshMs;
    const blocker = {
      limit: 'memory',
      requested: head.request.slots,
      available: 0,
      waitMs: retryAfterMs,
      reason,
    };
    if (this.mode === 'reject' && this.#refuseNewWork(head, blocker)) return;
    this.#noteQueued(head, reason);
    await this.#sleep(retryAfterMs);
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
    return Math.min(exact ? MAX_TIMER_MS : this.#maxSleepMs, waitMs);
  }

  /** The head and up to `batchSize - 1` waiters behind it, in order. */
  #batch(): Waiter[] {
    const batch: Waiter[] = [];
    for (const waiter of this.#queue) if (batch.push(waiter) >= this.#batchSize) break;
    return batch;
  }

  /** Why the store did not grant `head`, in the words the in-process governor uses. */
  #blockerOf(reply: AcquireReply, head: Waiter): Blocker {
    const waitMs = reply.waitMs;
    const max = this.config.maxSlots;
    if (reply.blockedBy === 'slots' && max !== null) {
      const available = Math.max(0, max - reply.slotsUsed);
      const reason = slotsReason(reply.slotsUsed, max);
      return { limit: TASK_LIMIT, requested: head.request.slots, available, waitMs: undefined, reason };
    }
    if (reply.blockedBy === 'cooldown') return this.#cooldownBlocker(waitMs);
    const i = this.config.rates.findIndex((r) => r.name === reply.blockedBy);
    if (i < 0) return { limit: 'quota', requested: 1, available: 0, waitMs, reason: 'the shared quota' };
    const name = this.config.rates[i]!.name;
    const requested = head.request.amounts[i]!;
    const left = reply.remaining[i]!;
    return {
      limit: name,
      requested,
      available: Math.max(0, left),
      waitMs,
      reason: rateReason(name, requested, left, waitMs),
    };
  }

  #cooldownBlocker(waitMs: number): Blocker {
    const reason = cooldownReason(waitMs, this.#cooldownReason);
    return { limit: 'cooldown', requested: 1, available: 0, waitMs, reason };
  }

  /**
   * Reject mode: refuses the blocked head if it is new work, and every new work waiting
   * behind a head that may wait (a started task's). Whether the head was refused.
   */
  #refuseNewWork(head: Waiter, blocker: Blocker): boolean {
    const refuse = (waiter: Waiter, b: Blocker) =>
      this.#drop(waiter, this.#refuse(waiter.cost, b, waiter.label), undefined);
    if (mayRefuse(head.task)) {
      refuse(head, blocker);
      return true;
    }
    for (const waiter of this.#queue) {
      if (waiter === head || !mayRefuse(waiter.task)) continue;
      const reason = `${this.#queue.size - 1} caller(s) waiting first`;
      refuse(waiter, { limit: 'queue', requested: 1, available: 0, waitMs: undefined, reason });
    }
    return false;
  }

  #grant(waiter: Waiter, storeNow: number, localNow: number): void {
    if (waiter.done) {
      // Aborted or timed out while the store granted it: give it straight back.
      const { leaseId, amounts, slots } = waiter.request;
      this.store
        .settle(
          this.config,
          leaseId,
          amounts,
          amounts.map(() => 0),
        )
        .then(() => (slots > 0 ? this.store.release(this.config, leaseId, slots, false, amounts) : undefined))
        .then(() => this.#wake())
        .catch((error: unknown) => this.#storeError(error, 'release'));
      return;
    }
    const lease = new DistributedLease(this, waiter, localNow, storeNow);
    this.#queue.remove(waiter);
    waiter.cleanup();
    if (waiter.task) waiter.task.started = true;
    this.#activeTasks += waiter.request.slots;
    if (waiter.request.slots > 0 && this.config.maxSlots !== null) {
      this.#held.set(lease.storeId, lease);
      this.#scheduleRenewal();
    }
    this.#handOver(waiter, lease, localNow);
  }

  #admitOpen(head: Waiter): void {
    const lease = new DistributedLease(this, head, this.#clock.now(), undefined, undefined);
    this.#emit({
      type: 'would-block',
      cost: head.cost,
      limit: 'store',
      reason: 'quota store unavailable: admitted (fail-open)',
      label: head.label,
    });
    this.#finishLocal(head, lease);
  }

  /** Hands every waiter not yet there to the local fallback, with its priority; its own timeout and signal still apply. */
  #forwardAll(): void {
    const fallback = this.#fallback!;
    for (const waiter of this.#queue) {
      if (waiter.forwarded || waiter.done) continue;
      const forwarded = new AbortController();
      waiter.forwarded = forwarded;
      this.#noteQueued(waiter, 'quota store unavailable: waiting for the local share');
      const options = {
        signal: forwarded.signal,
        priority: waiter.priority,
        ...(waiter.label === undefined ? {} : { label: waiter.label }),
      };
      fallback.acquire(waiter.request, options).then(
        (local) => {
          if (waiter.done || waiter.forwarded !== forwarded) {
            local.release();
            return;
          }
          this.#finishLocal(waiter, new DistributedLease(this, waiter, this.#clock.now(), undefined, local));
        },
        (error: unknown) => {
          if (waiter.forwarded === forwarded && !forwarded.signal.aborted)
            this.#drop(waiter, error, undefined);
        },
      );
    }
  }

  /** The store is back: waiters the fallback has not served yet go back to the store, and it counts what the fallback admitted. */
  #recallFromFallback(): void {
    const fallback = this.#fallback;
    if (!fallback) return;
    for (const waiter of this.#queue) {
      const forwarded = waiter.forwarded;
      waiter.forwarded = undefined;
      forwarded?.abort();
    }
    fallback.drain().forEach((amount, i) => {
      if (amount > 0)
        this.store.take(this.config, i, amount).catch((error: unknown) => this.#storeError(error, 'take'));
    });
  }

  #finishLocal(head: Waiter, lease: DistributedLease): void {
    this.#queue.remove(head);
    head.cleanup();
    this.#activeTasks += head.request.slots;
    this.#handOver(head, lease, this.#clock.now());
    this.#markChanged();
  }

  /** Says the waiter got its lease, and gives it. */
  #handOver(waiter: Waiter, lease: DistributedLease, now: number): void {
    this.#emit({
      type: 'acquired',
      leaseId: lease.id,
      cost: waiter.cost,
      waitedMs: now - waiter.enqueuedAt,
      label: waiter.label,
    });
    waiter.resolve(lease);
  }

  #grantMonitored(cost: ResourceCost, request: StoreRequest, label: string | undefined): GovernorLease {
    request.amounts.forEach((amount, i) => {
      if (amount <= 0) return;
      const rate = this.config.rates[i]!;
      if ((this.#remaining[i] ?? 0) < amount)
        this.#emit({
          type: 'would-block',
          cost,
          limit: rate.name,
          reason: rateReason(rate.name, amount, this.#remaining[i] ?? 0),
          label,
        });
      this.#remaining[i] = (this.#remaining[i] ?? 0) - amount;
      this.store.take(this.config, i, amount).catch((error: unknown) => this.#storeError(error, 'take'));
    });
    const lease = new DistributedLease(this, { cost, request }, this.#clock.now(), undefined, undefined);
    this.#activeTasks += request.slots;
    this.#emit({ type: 'acquired', leaseId: lease.id, cost, waitedMs: 0, label });
    return lease;
  }

  #storeError(error: unknown, operation: string): void {
    if (StoreUnavailableError.is(error) || !(error instanceof Error && error.name === 'ReplyError')) {
      this.#markDown(error);
      return;
    }
    this.#logger.error('quota store script failed', { governor: this.name, operation, error: String(error) });
  }

  #markDown(error: unknown): void {
    if (this.#down || this.#disposed) return;
    this.#down = true;
    this.#downSince = this.#clock.now();
    const message = error instanceof Error ? error.message : String(error);
    this.#logger.warn('quota store unavailable', {
      governor: this.name,
      policy: this.#policy,
      error: message,
    });
    this.#fallback?.begin(this.#remaining);
    this.#emit({ type: 'store-unavailable', policy: this.#policy, error: message });
    this.#markChanged();
    this.#wake();
    this.#scheduleProbe();
  }

  #markUp(): void {
    if (!this.#down) return;
    this.#down = false;
    const downMs = this.#clock.now() - this.#downSince;
    this.#logger.info('quota store recovered', { governor: this.name, downMs });
    this.#recallFromFallback();
    this.#emit({ type: 'store-recovered', downMs });
    if (this.#probeTimer !== undefined) this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#markChanged();
    this.#wake();
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || this.#disposed) return;
    this.#probeTimer = this.#clock.setTimeout(() => {
      this.#probeTimer = undefined;
      if (!this.#down || this.#disposed) return;
      this.refresh().then(
        () => this.#kick(),
        () => this.#scheduleProbe(),
      );
    }, this.#retryMs);
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer !== undefined || this.#disposed) return;
    this.#renewTimer = this.#clock.setTimeout(
      () => {
        this.#renewTimer = undefined;
        const leases = [...this.#held.values()].filter((l) => l.stored);
        if (leases.length === 0) return;
        this.store
          .renew(
            this.config,
            leases.map((l) => ({ leaseId: l.storeId, slots: l.slots })),
          )
          .catch((error: unknown) => this.#storeError(error, 'renew'));
        this.#scheduleRenewal();
      },
      Math.max(1, Math.floor(this.config.slotTtlMs / 3)),
    );
  }

  #sleep(ms: number): Promise<void> {
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

  /** Capacity may have changed: sleepers retry now. */
  #wake(): void {
    for (const wake of [...this.#sleepers.keys()]) wake();
    if (!this.#pumping && this.#queue.size > 0 && !this.#disposed) this.#kick();
  }

  /** @internal see {@link LivenessView}. */
  [livenessView](): LivenessView {
    const wakeAt = this.#sleepers.size > 0 ? Math.min(...this.#sleepers.values()) : undefined;
    return {
      disposed: this.#disposed,
      waiting: this.#queue.size,
      wakeAt,
      headWaitMs: undefined,
      activeTasks: this.#activeTasks,
      busy: this.#kickPending || (this.#pumping && this.#sleepers.size === 0),
      footprint: this.#queue.footprint,
    };
  }

  /** A timer at the earliest wait deadline in `batch`, arming the timeouts of those due. */
  #watch(batch: readonly Waiter[]): TimerHandle | undefined {
    let first = Number.POSITIVE_INFINITY;
    for (const w of batch) first = Math.min(first, w.deadline);
    if (!Number.isFinite(first)) return undefined;
    return this.#clock.setTimeout(
      () => {
        for (const w of batch) if (w.deadline <= this.#clock.now()) w.armTimeout?.();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, first - this.#clock.now())),
    );
  }

  #noteQueued(waiter: Waiter, reason: string): void {
    waiter.lastReason = reason;
    for (const w of this.#queue) w.armTimeout?.();
    if (waiter.queuedEmitted) return;
    waiter.queuedEmitted = true;
    this.#emit({
      type: 'queued',
      cost: waiter.cost,
      queued: this.#queue.size,
      reason,
      label: waiter.label,
    });
  }

  #shortest(resource: string): number {
    let best = -1;
    this.config.rates.forEach((r, i) => {
      if (r.resource === resource && (best < 0 || r.windowMs < this.config.rates[best]!.windowMs)) best = i;
    });
    return best;
  }

  /** A store-clock time as local clock time, by the offset seen in the reply. */
  #toLocal(storeTime: number, storeNow: number): number {
    return this.#clock.now() + (storeTime - storeNow);
  }

  #markChanged(): void {
    if (!this.#disposed) this.#changes.next();
  }

  #emit(event: DistributiveOmit<GovernorEvent, 'governor' | 'at'>): void {
    if (this.#disposed && event.type !== 'disposed' && event.type !== 'settled' && event.type !== 'released')
      return;
    this.#events.next({ ...event, governor: this.name, at: this.#clock.now() } as GovernorEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let nextLeaseId = 1;

/** A lease of a distributed governor: in the store, or local while the store was down. */
export class DistributedLease implements GovernorLease {
  readonly id = nextLeaseId++;
  readonly storeId: string;
  readonly cost: ResourceCost;
  readonly slots: number;
  readonly amounts: readonly number[];
  readonly holds: boolean;
  readonly acquiredAt: number;
  /** Store-clock time of admission, when the store admitted it. */
  readonly admittedAt: number | undefined;
  readonly local: GovernorLease | undefined;
  readonly #owner: DistributedGovernor;
  #settled = false;
  #released = false;
  #holdEnded = false;

  constructor(
    owner: DistributedGovernor,
    waiter: Pick<Waiter, 'cost' | 'request'>,
    acquiredAt: number,
    admittedAt: number | undefined,
    local?: GovernorLease,
  ) {
    this.#owner = owner;
    this.storeId = waiter.request.leaseId;
    this.cost = waiter.cost;
    this.slots = waiter.request.slots;
    this.amounts = waiter.request.amounts;
    this.holds = waiter.request.held;
    this.acquiredAt = acquiredAt;
    this.admittedAt = admittedAt;
    this.local = local;
  }

  /** Whether the store holds this lease (not a fail-open or local-fallback one). */
  get stored(): boolean {
    return this.admittedAt !== undefined;
  }

  get settled(): boolean {
    return this.#settled;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Whether its held reservations still count as in flight (acquired held; no settle or end of hold yet). */
  get holding(): boolean {
    return this.holds && !this.#settled && !this.#holdEnded;
  }

  endHold(): void {
    if (!this.holding || this.#released) return;
    this.#owner.endHoldLease(this);
    this.#holdEnded = true;
  }

  settle(actual: ActualUsage): void {
    if (this.#settled) return;
    this.#settled = true;
    try {
      this.#owner.settleLease(this, actual);
    } catch (error) {
      this.#settled = false;
      throw error;
    }
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseLease(this);
  }
}
