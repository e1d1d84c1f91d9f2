// What the page shows of one governor: its status read fresh, its event counts, and the
// history of each limit's use for the charts.
import type { Governor } from '@tollgate/limits';
import { type GovernorView, type HistoryPoint, historyKey, type LimitView } from '../views.js';

/** Counts and history of one governor. */
export class GovernorTracker {
  readonly governor: Governor;
  #admissions = 0;
  #rejections = 0;
  #cooldowns = 0;
  #waitMsTotal = 0;
  #maxWaitMs = 0;
  readonly #history = new Map<string, HistoryPoint[]>();
  readonly #historyLength: number;
  readonly #subscriptions: Array<{ unsubscribe(): void }> = [];
  #last: GovernorView | undefined;

  constructor(governor: Governor, historyLength: number) {
    this.governor = governor;
    this.#historyLength = historyLength;
    this.#subscriptions.push(
      governor.events$.subscribe((event) => {
        if (event.type === 'acquired') {
          this.#admissions++;
          this.#waitMsTotal += event.waitedMs;
          this.#maxWaitMs = Math.max(this.#maxWaitMs, event.waitedMs);
        } else if (event.type === 'rejected' || (event.type === 'timeout' && event.kind === 'wait'))
          this.#rejections++;
        else if (event.type === 'cooldown') this.#cooldowns++;
      }),
    );
  }

  /** The governor now; once it is disposed, as it last was. */
  view(): GovernorView {
    const g = this.governor;
    if (g.disposed) return { ...(this.#last ?? this.#emptyView()), disposed: true };
    const status = g.checkResourceAvailability();
    const limits: LimitView[] = Object.entries(status.limits).map(([name, l]) => {
      const remaining = status.remaining[name] ?? Math.floor(l.remaining);
      return {
        name,
        resource: l.resource,
        limit: l.limit,
        capacity: l.capacity,
        windowMs: l.windowMs,
        remaining,
        used: Math.max(0, l.capacity - remaining),
      };
    });
    this.#last = {
      name: g.name,
      mode: status.mode,
      activeTasks: status.activeTasks,
      maxTasks: status.maxTasks,
      queued: status.queued,
      cooldownMs: status.cooldownUntil === null ? 0 : Math.max(0, status.cooldownUntil - status.at),
      limits,
      admissions: this.#admissions,
      rejections: this.#rejections,
      cooldowns: this.#cooldowns,
      meanWaitMs: this.#admissions === 0 ? 0 : this.#waitMsTotal / this.#admissions,
      maxWaitMs: this.#maxWaitMs,
      disposed: false,
    };
    return this.#last;
  }

  #emptyView(): GovernorView {
    const g = this.governor;
    return {
      name: g.name,
      mode: g.mode,
      activeTasks: 0,
      maxTasks: null,
      queued: 0,
      cooldownMs: 0,
      limits: [],
      admissions: this.#admissions,
      rejections: this.#rejections,
      cooldowns: this.#cooldowns,
      meanWaitMs: 0,
      maxWaitMs: this.#maxWaitMs,
      disposed: true,
    };
  }

  /** Adds a chart point per limit from `view`, dropping points beyond the history length. */
  sample(view: GovernorView, atSeconds: number): Record<string, HistoryPoint> {
    const points: Record<string, HistoryPoint> = {};
    for (const l of view.limits) {
      const key = historyKey(view.name, l.name);
      const list = this.#history.get(key) ?? [];
      const point: HistoryPoint = [atSeconds, l.used, l.capacity];
      list.push(point);
      if (list.length > this.#historyLength) list.splice(0, list.length - this.#historyLength);
      this.#history.set(key, list);
      points[key] = point;
    }
    return points;
  }

  /** Every chart point kept. */
  history(): Record<string, HistoryPoint[]> {
    return Object.fromEntries(this.#history);
  }

  dispose(): void {
    for (const s of this.#subscriptions.splice(0)) s.unsubscribe();
  }
}
