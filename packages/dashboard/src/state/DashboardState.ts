// Follows a target's streams and keeps what the page shows, ready to send as JSON.
import { TOKENS } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import { classify, type InstrumentTarget } from '@tollgate/telemetry';
import type { HistoryPoint, Snapshot } from '../views.js';
import { ActivityTracker } from './ActivityTracker.js';
import { GovernorTracker } from './GovernorTracker.js';

/** How much the state keeps. */
export interface DashboardStateOptions {
  readonly title: string;
  /** Chart points kept per limit. */
  readonly historyLength: number;
  /** Agent rows kept. */
  readonly maxAgents: number;
  readonly budget?: { readonly maxTokens?: number; readonly maxCost?: number } | undefined;
}

/** The target's state as the page shows it. */
export class DashboardState {
  readonly #governors: GovernorTracker[] = [];
  readonly #activity: ActivityTracker;
  readonly #subscriptions: Array<{ unsubscribe(): void }> = [];
  readonly #options: DashboardStateOptions;
  readonly #startedAt = Date.now();

  constructor(target: InstrumentTarget, options: DashboardStateOptions) {
    this.#options = options;
    this.#activity = new ActivityTracker(options.maxAgents);
    this.follow(target);
  }

  /** Everything now; with the charts' history when `withHistory`. */
  snapshot(withHistory: boolean): Snapshot {
    const snapshot: Snapshot = {
      title: this.#options.title,
      pid: process.pid,
      startedAt: this.#startedAt,
      now: Date.now(),
      governors: this.#governors.map((g) => g.view()),
      calls: this.#activity.calls(),
      agents: this.#activity.agents(),
      activeAgents: this.#activity.activeAgents(),
      fleet: this.#activity.fleet(),
    };
    if (!withHistory) return snapshot;
    const history: Record<string, HistoryPoint[]> = {};
    for (const g of this.#governors) Object.assign(history, g.history());
    return { ...snapshot, history };
  }

  /** A chart point for every limit, now. */
  sample(): { readonly t: number; readonly points: Record<string, HistoryPoint> } {
    const t = Date.now() / 1000;
    const points: Record<string, HistoryPoint> = {};
    for (const g of this.#governors) Object.assign(points, g.sample(g.view(), t));
    return { t, points };
  }

  dispose(): void {
    for (const s of this.#subscriptions.splice(0)) s.unsubscribe();
    for (const g of this.#governors) g.dispose();
  }

  #governor(governor: Governor | undefined): void {
    if (!governor || this.#governors.some((g) => g.governor === governor)) return;
    this.#governors.push(new GovernorTracker(governor, this.#options.historyLength));
  }

  /** Follows one more target (its governors and streams), e.g. a governor made after the start. */
  follow(target: InstrumentTarget): void {
    const classified = classify(target);
    switch (classified?.kind) {
      case 'governor':
        this.#governor(classified.target);
        return;
      case 'client':
        this.#subscriptions.push(classified.target.events$.subscribe((e) => this.#activity.onClient(e)));
        return;
      case 'agent':
        this.#governor(classified.target.governor);
        this.#governor(classified.target.providerGovernor);
        this.#subscriptions.push(classified.target.events$.subscribe((e) => this.#activity.onAgent(e)));
        return;
      case 'fleet':
        this.#governor(classified.target.providerGovernor);
        this.#governor(classified.target.governor);
        this.#activity.trackFleet(classified.target.name, this.#options.budget);
        this.#subscriptions.push(classified.target.events$.subscribe((e) => this.#activity.onFleet(e)));
        return;
      case 'container':
        this.#governor(classified.target.get(TOKENS.ProviderGovernor) as Governor);
        return;
      default:
        return;
    }
  }
}
