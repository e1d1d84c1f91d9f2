// The one governor engine's public face: the Governor interface over an Engine and an admission strategy.
import { abortReason, DisposedError, InvalidArgumentError } from '@tollgate/core';
import type { ParsedResourceLimits } from '../config/ResourceLimits.js';
import type { Admission, AdmissionHost, Demand } from './Admission.js';
import { checkAcquireOptions, checkRunTaskOptions } from './callOptions.js';
import { neverFits } from './demand.js';
import { type CoreOptions, Engine } from './Engine.js';
import type { Governor } from './Governor.js';
import type { Lease, LeaseOwner } from './Lease.js';
import { limitMask } from './limitMask.js';
import { type Inspectable, type LivenessView, livenessView } from './liveness.js';
import { checkActualUsage, holdAgoMs, queueBlocker, shortestRate } from './rules.js';
import { runLeased } from './runLeased.js';
import { statusOf } from './statusOf.js';
import { assertTaskRunning, currentTask, mayRefuse, type TaskContext } from './taskContext.js';
import type { AcquireOptions, ActualUsage, ResourceCost, ResourceStatus, RunTaskOptions } from './types.js';
import type { Waiter } from './Waiters.js';

export type { CoreOptions };

/** The cost `checkResourceAvailability` and `waitForResources` ask about by default. */
export const DEFAULT_PROBE_COST: ResourceCost = Object.freeze({ task: 1, requests: 1 });

/**
 * The governor engine. Every acquire reserves from all applicable limits at once or not at
 * all; waiters are served in order among those that need the same limits, with their own
 * timeouts and signals; modes, cooldowns, leases, events and status work the same whatever
 * the admission. `ResourceGovernor` and `DistributedGovernor` are this engine over a local
 * and a store-backed admission (`T`: what a lease keeps; `X`: what a waiter carries).
 */
export class GovernorCore<T, X> implements Governor, LeaseOwner, Inspectable {
  /** {@inheritDoc Governor.name} */
  readonly name: string;
  /** {@inheritDoc Governor.limits} */
  readonly limits: ParsedResourceLimits;
  /** {@inheritDoc Governor.events$} */
  readonly events$: Governor['events$'];
  /** {@inheritDoc Governor.status$} */
  readonly status$: Governor['status$'];
  readonly #engine: Engine<T, X>;
  readonly #admission: Admission<T, X>;

  /** @param admission makes the admission strategy, given what the engine offers it. */
  constructor(
    limits: ParsedResourceLimits,
    options: CoreOptions,
    admission: (host: AdmissionHost<T, X>) => Admission<T, X>,
  ) {
    this.limits = limits;
    this.name = options.name;
    this.#engine = new Engine<T, X>(limits, options, this, () => this.checkResourceAvailability());
    this.events$ = this.#engine.hub.events$;
    this.status$ = this.#engine.hub.status$;
    this.#admission = admission(this.#engine);
    this.#engine.admission = this.#admission;
  }

  /** {@inheritDoc Governor.activeTasks} */
  get activeTasks(): number {
    return this.#engine.activeTasks;
  }

  /** {@inheritDoc Governor.queued} */
  get queued(): number {
    return this.#engine.queue.size;
  }

  /** {@inheritDoc Governor.disposed} */
  get disposed(): boolean {
    return this.#engine.disposed;
  }

  /** {@inheritDoc Governor.mode} */
  get mode(): ResourceStatus['mode'] {
    return this.#engine.mode;
  }

  /** {@inheritDoc Governor.acquire} */
  acquire(cost: ResourceCost, options?: AcquireOptions): Promise<Lease<T>> {
    try {
      return this.#acquire(cost, checkAcquireOptions(options), false) as Promise<Lease<T>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@inheritDoc Governor.runTask} */
  async runTask<R>(
    fn: (signal: AbortSignal, lease: Lease<T>) => Promise<R> | R,
    options?: RunTaskOptions,
  ): Promise<R> {
    const checked = checkRunTaskOptions(options);
    const seconds = this.limits.taskTimeoutSeconds;
    const defaultMs = seconds === undefined ? undefined : seconds * 1000;
    const { taskTimeoutMs = defaultMs, cost, stopGraceMs, ...rest } = checked;
    const lease = await this.acquire({ ...cost, task: 1 }, rest);
    const { label } = checked;
    const engine = this.#engine;
    const governor = this.name;
    return runLeased(lease, fn, {
      clock: engine.clock,
      signal: checked.signal,
      taskTimeoutMs,
      stopGraceMs,
      onTimeout(afterMs) {
        engine.emit({ type: 'timeout', kind: 'task', afterMs, reason: 'task timeout', label });
      },
      onStopOverdue(graceMs) {
        const message = 'an aborted task did not stop within its grace period; its slot is released';
        engine.logger.warn(message, { governor, graceMs, label });
      },
    });
  }

  /** {@inheritDoc Governor.cooldown} */
  cooldown(ms: number, reason = 'cooldown'): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new InvalidArgumentError('ms', 'a finite number of at least 0', ms);
    const engine = this.#engine;
    const until = engine.clock.now() + ms;
    if (!engine.startCooldown(until, reason)) return;
    engine.logger.warn('cooldown', { governor: this.name, ms, reason });
    engine.emit({ type: 'cooldown', until, ms, reason });
    this.#admission.cooldown(ms);
    engine.changed();
    this.#admission.serve();
  }

  /** {@inheritDoc Governor.checkResourceAvailability} */
  checkResourceAvailability(cost: ResourceCost = DEFAULT_PROBE_COST): ResourceStatus {
    const engine = this.#engine;
    const now = engine.clock.now();
    const reason = engine.reason(this.#admission.demand(cost), now);
    const probe = engine.options.memoryProbe;
    return statusOf(this.#admission, now, reason, {
      governor: this.name,
      mode: this.mode,
      activeTasks: engine.activeTasks,
      queued: this.queued,
      memoryUsageMb: probe ? probe.usageMb() : null,
      memoryLimitMb: this.limits.maxMemoryMb ?? null,
      cooldownUntil: engine.cooldownUntil > now ? engine.cooldownUntil : null,
    });
  }

  /** {@inheritDoc Governor.waitForResources} */
  waitForResources(timeoutMs: number, cost: ResourceCost = DEFAULT_PROBE_COST): Promise<boolean> {
    if (this.disposed) return Promise.resolve(false);
    try {
      const checked = checkAcquireOptions({ timeoutMs }, 'waitForResources');
      // Monitor mode admits every acquire at once, whatever the limits: so does the probe.
      if (this.mode === 'monitor') return Promise.resolve(true);
      const probe = this.#admission.probe;
      if (probe) return probe(timeoutMs, this.#admission.demand(cost));
      return this.#acquire(cost, checked, true) as Promise<boolean>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@inheritDoc Governor.remaining} */
  remaining(resource: string): number | undefined {
    const i = shortestRate(this.#admission.rates, resource);
    return i < 0 ? undefined : this.#admission.available(i, this.#engine.clock.now());
  }

  /** {@inheritDoc Governor.lowerRemaining} */
  lowerRemaining(resource: string, amount: number): void {
    if (!(amount > 0) || !Number.isFinite(amount)) return;
    const i = shortestRate(this.#admission.rates, resource);
    if (i < 0) return;
    const engine = this.#engine;
    this.#admission.lower(i, amount, engine.clock.now());
    engine.logger.debug('lowered remaining from provider feedback', {
      governor: this.name,
      resource,
      amount,
    });
    engine.changed();
  }

  /** {@inheritDoc Governor.dispose} */
  dispose(): void {
    const engine = this.#engine;
    if (engine.disposed) return;
    engine.disposed = true;
    for (const waiter of engine.waiters.drain()) {
      if (waiter.probe) waiter.resolve(false);
      else waiter.reject(new DisposedError(`Governor '${this.name}'`));
    }
    this.#admission.dispose();
    engine.emit({ type: 'disposed' });
    engine.hub.close();
  }

  /** @internal called by Lease.settle */
  settleLease(lease: Lease, actual: ActualUsage): void {
    checkActualUsage(actual);
    const engine = this.#engine;
    const values = this.#admission.rates.map((r) => actual[r.resource]);
    const freed = this.#admission.settle(lease as Lease<T>, values, engine.clock.now());
    lease.held = false;
    engine.emit({ type: 'settled', leaseId: lease.id, reserved: lease.cost, actual });
    engine.changed();
    if (freed) this.#admission.serve();
  }

  /** @internal called by Lease.release */
  releaseLease(lease: Lease): void {
    const engine = this.#engine;
    engine.activeTasks -= lease.slots;
    const freed = this.#admission.release(lease as Lease<T>);
    lease.held = false;
    if (engine.hub.observed)
      engine.emit({ type: 'released', leaseId: lease.id, heldMs: engine.clock.now() - lease.acquiredAt });
    engine.changed();
    if (lease.slots > 0 || freed) this.#admission.serve();
  }

  /** @internal called by Lease.endHold */
  endHoldLease(lease: Lease, agoMs?: number): void {
    const now = this.#engine.clock.now();
    const ago = holdAgoMs(agoMs, now - lease.acquiredAt);
    const freed = this.#admission.endHold(lease as Lease<T>, now, ago);
    lease.held = false;
    if (!freed) return;
    this.#engine.changed();
    this.#admission.serve();
  }

  /** @internal see {@link LivenessView}. */
  [livenessView](): LivenessView {
    const engine = this.#engine;
    const admission = this.#admission;
    const { waitOf, ...part } = admission.liveness();
    const slotsGated = Number.isFinite(admission.maxSlots) || engine.memoryProbe !== undefined;
    const fronts: LivenessView['fronts'][number][] = [];
    let earlier = 0;
    let position = 0;
    for (const w of engine.queue) {
      const needs = limitMask(w.demand.amounts, w.demand.slots, slotsGated);
      if ((needs & earlier) === 0) fronts.push({ position, needs, waitMs: waitOf(w) });
      earlier |= needs;
      position++;
    }
    return {
      disposed: engine.disposed,
      waiting: engine.queue.size,
      activeTasks: engine.activeTasks,
      footprint: engine.queue.footprint,
      fronts,
      ...part,
    };
  }

  /** A lease now, or `undefined` when `cost` does not fit now (or waiters for the same limits go first). */
  protected tryGrant(cost: ResourceCost, label: string | undefined): Lease<T> | undefined {
    const engine = this.#engine;
    if (engine.disposed) throw new DisposedError(`Governor '${this.name}'`);
    const admission = this.#admission;
    const demand = admission.demand(cost);
    const now = engine.clock.now();
    const extra = admission.prepare(demand, false);
    const task = currentTask();
    if (engine.mode === 'monitor') {
      const who = { demand, enqueuedAt: now, label, held: false, task: undefined, extra };
      return engine.grantMonitored(who, now);
    }
    if (admission.ahead(demand, engine.queue)) return undefined;
    if (neverFits(demand, admission.rates, admission.maxSlots) || engine.blocker(demand, now))
      return undefined;
    assertTaskRunning(task);
    if (task) task.started = true;
    return engine.grant(demand, now, false, extra, now, label);
  }

  #acquire(cost: ResourceCost, options: AcquireOptions, probe: boolean): Promise<Lease<T> | boolean> {
    const engine = this.#engine;
    if (engine.disposed) throw new DisposedError(`Governor '${this.name}'`);
    const admission = this.#admission;
    const demand = admission.demand(cost);
    const { signal, label } = options;
    if (signal?.aborted) throw abortReason(signal);
    const now = engine.clock.now();
    const held = options.holdUntilSettled === true;
    const task = currentTask();
    assertTaskRunning(task);
    if (engine.mode === 'monitor') {
      if (probe) return Promise.resolve(true);
      const who = { demand, enqueuedAt: now, label, held, task, extra: admission.prepare(demand, held) };
      return Promise.resolve(engine.grantMonitored(who, now));
    }
    const ahead = admission.ahead(demand, engine.queue);
    const blocker = admission.synchronous ? engine.blocker(demand, now) : undefined;
    if (admission.synchronous && !ahead && !blocker) {
      if (probe) return Promise.resolve(true);
      if (task) task.started = true;
      const extra = admission.prepare(demand, held);
      return Promise.resolve(engine.grant(demand, now, held, extra, now, label));
    }
    // What fits now can fit; only the rest is checked against the limits' capacities.
    const never = neverFits(demand, admission.rates, admission.maxSlots);
    if (never) {
      if (probe) return Promise.resolve(false);
      throw engine.refusal(demand.cost, { ...never, waitMs: Number.POSITIVE_INFINITY }, label);
    }
    if (engine.mode === 'reject' && !probe && mayRefuse(task) && (ahead || blocker))
      throw engine.refusal(demand.cost, blocker ?? queueBlocker(engine.queue.size), label);
    return this.#enqueue(demand, now, options, { probe, task, reason: blocker?.reason });
  }

  #enqueue(
    demand: Demand,
    now: number,
    options: AcquireOptions,
    how: { probe: boolean; task: TaskContext | undefined; reason: string | undefined },
  ): Promise<Lease<T> | boolean> {
    const engine = this.#engine;
    const { signal, label, priority = 0 } = options;
    const timeoutMs = options.timeoutMs ?? this.limits.resourceWaitTimeoutSeconds * 1000;
    const held = options.holdUntilSettled === true;
    const extra = this.#admission.prepare(demand, held);
    const { probe, task } = how;
    const reason = how.reason ?? engine.options.waitingReason;
    const spec = { demand, enqueuedAt: now, timeoutMs, label, held, probe, task, extra, priority, reason };
    return new Promise<Lease<T> | boolean>((resolve, reject) => {
      const waiter = engine.waiters.add(spec, signal, { resolve: resolve as Waiter<X>['resolve'], reject });
      // An admission that decides at once knows this caller waits; another tells later.
      if (this.#admission.synchronous) engine.blocked(waiter, waiter.reason, false);
      engine.changed();
      this.#admission.serve();
    });
  }
}
