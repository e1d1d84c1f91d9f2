/**
 * What a governor shows of its waiting machinery, for tests of liveness: whenever callers
 * wait and the governor is not disposed, the head (and every waiter that needs no limit an
 * earlier one needs) can be admitted now, or a wake-up is armed for (at the latest) the
 * moment it can. Not part of the public API.
 */
export interface LivenessView {
  readonly disposed: boolean;
  /** Callers waiting. */
  readonly waiting: number;
  /** Clock time of the armed wake-up, if any. */
  readonly wakeAt: number | undefined;
  /**
   * Ms until the head waiter fits, as far as this process can tell: 0 fits now, `Infinity`
   * waits for a release (a slot), `undefined` when only the store knows.
   */
  readonly headWaitMs: number | undefined;
  /** Concurrency slots held in this process (whose release wakes a head waiting for a slot). */
  readonly activeTasks: number;
  /** A store call is in flight; its reply arms the next wake-up. */
  readonly busy: boolean;
  /**
   * The front waiters, in queue order: the head, and every waiter that needs no limit an
   * earlier one needs (from its cost, whatever the admission does with it), each to be
   * served as the head is. Its position in the queue, the limits it needs (a bit each) and
   * ms until it fits, as `headWaitMs` says of the head.
   */
  readonly fronts: readonly {
    readonly position: number;
    readonly needs: number;
    readonly waitMs: number | undefined;
  }[];
  /** Array slots the wait queue uses, left waiters included. */
  readonly footprint: number;
}

/** The method key under which governors give their {@link LivenessView}. */
export const livenessView: unique symbol = Symbol('tollgate.livenessView');

/** A governor that shows its {@link LivenessView}. */
export interface Inspectable {
  [livenessView](): LivenessView;
}
