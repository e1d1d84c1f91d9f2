// The callers a governor keeps waiting: their order, their wait timeouts and their abort signals.
import { type Clock, onAbort, type TimerHandle } from '@tollgate/core';
import type { QueuedDemand as Demand } from './demand.js';
import type { Lease } from './Lease.js';
import type { TaskContext } from './taskContext.js';
import { type QueueItem, WaitQueue } from './WaitQueue.js';

/** One caller waiting for a governor; `X` is what the governor's admission keeps with it. */
export interface Waiter<X = unknown> extends QueueItem {
  readonly demand: Demand;
  readonly enqueuedAt: number;
  /** Its wait timeout, ms (`Infinity` for none). */
  readonly timeoutMs: number;
  /** Clock time its wait ends (`Infinity` for never). */
  readonly deadline: number;
  readonly label: string | undefined;
  readonly held: boolean;
  /** A probe (`waitForResources`) resolves `true` without taking anything. */
  readonly probe: boolean;
  /** The task the acquire was made in: a grant marks it started. */
  readonly task: TaskContext | undefined;
  readonly extra: X;
  /** Why it waits, as last known (its timeout says so). */
  reason: string;
  /** It was told it waits (a `queued` event). */
  noted: boolean;
  /** Called once when it leaves the queue, however it leaves. */
  onLeave: (() => void) | undefined;
  /** @internal its wait timer, once armed. */
  timer: TimerHandle | undefined;
  /** @internal stops listening to its signal. */
  unsubscribe: (() => void) | undefined;
  readonly resolve: (value: Lease | boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** What a new waiter is, before it joins the queue. */
export type WaiterSpec<X> = Omit<
  Waiter<X>,
  'seq' | 'mask' | 'done' | 'noted' | 'onLeave' | 'timer' | 'unsubscribe' | 'deadline' | 'resolve' | 'reject'
>;

/** What happens when a waiter's wait ends on its own. */
export interface WaiterEvents<X> {
  timedOut(waiter: Waiter<X>): void;
  aborted(waiter: Waiter<X>, signal: AbortSignal): void;
}

/**
 * The wait queue with each waiter's timeout timer and abort listener. A waiter's timer is
 * armed on demand (`arm`): an admission that decides later (a store) arms it only once the
 * waiter is known to wait, so most acquires never need one.
 */
export class Waiters<X> {
  readonly queue = new WaitQueue<Waiter<X>>();
  readonly #clock: Clock;
  readonly #events: WaiterEvents<X>;
  #seq = 0;

  constructor(clock: Clock, events: WaiterEvents<X>) {
    this.#clock = clock;
    this.#events = events;
  }

  /** Queues a new waiter, listening to `signal`. */
  add(
    spec: WaiterSpec<X>,
    signal: AbortSignal | undefined,
    settle: Pick<Waiter<X>, 'resolve' | 'reject'>,
  ): Waiter<X> {
    const waiter: Waiter<X> = {
      seq: this.#seq++,
      priority: spec.priority,
      mask: spec.demand.mask,
      done: false,
      demand: spec.demand,
      enqueuedAt: spec.enqueuedAt,
      timeoutMs: spec.timeoutMs,
      deadline: spec.enqueuedAt + spec.timeoutMs,
      label: spec.label,
      held: spec.held,
      probe: spec.probe,
      task: spec.task,
      extra: spec.extra,
      reason: spec.reason,
      noted: false,
      onLeave: undefined,
      timer: undefined,
      unsubscribe: undefined,
      resolve: settle.resolve,
      reject: settle.reject,
    };
    if (signal) waiter.unsubscribe = onAbort(signal, () => this.#events.aborted(waiter, signal));
    this.queue.push(waiter);
    return waiter;
  }

  /** Starts the waiter's timeout, if it has one and it is not running. */
  arm(waiter: Waiter<X>): void {
    if (waiter.timer !== undefined || waiter.done || !Number.isFinite(waiter.timeoutMs)) return;
    const left = Math.max(0, waiter.deadline - this.#clock.now());
    waiter.timer = this.#clock.setTimeout(() => this.#events.timedOut(waiter), left);
  }

  /** Takes the waiter out, stopping its timer and listener; `false` if it had left already. */
  leave(waiter: Waiter<X>): boolean {
    if (waiter.done) return false;
    this.queue.remove(waiter);
    if (waiter.timer !== undefined) this.#clock.clearTimeout(waiter.timer);
    waiter.unsubscribe?.();
    waiter.onLeave?.();
    return true;
  }

  /** Takes every waiter out. */
  drain(): Waiter<X>[] {
    const all = [...this.queue];
    for (const waiter of all) this.leave(waiter);
    return all;
  }
}
