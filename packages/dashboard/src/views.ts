// The JSON the page is drawn from: what the server sends on connect and on every change.

/** One rate limit of a governor, now. */
export interface LimitView {
  readonly name: string;
  readonly resource: string;
  readonly limit: number;
  readonly capacity: number;
  readonly windowMs: number;
  /** What could be taken now (floored). */
  readonly remaining: number;
  /** `capacity - remaining`: what the window (or the bucket) has used. */
  readonly used: number;
}

/** One governor, now. */
export interface GovernorView {
  readonly name: string;
  readonly mode: string;
  readonly activeTasks: number;
  readonly maxTasks: number | null;
  readonly queued: number;
  /** Time left of a cooldown (a provider's 429), ms; 0 when none. */
  readonly cooldownMs: number;
  readonly limits: readonly LimitView[];
  readonly admissions: number;
  readonly rejections: number;
  readonly cooldowns: number;
  /** Mean wait before admission over the admissions so far, ms. */
  readonly meanWaitMs: number;
  readonly maxWaitMs: number;
  readonly disposed: boolean;
}

/** The LLM calls seen, over every client of the target. */
export interface CallsView {
  readonly calls: number;
  readonly rateLimited: number;
  readonly retries: number;
  readonly failures: number;
  readonly circuit: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** One agent's current or last task. */
export interface AgentView {
  readonly agentId: string;
  readonly taskId: string;
  readonly role: string;
  /** `running`, or how the task ended. */
  readonly status: string;
  readonly llmCalls: number;
  readonly toolCalls: number;
  readonly tokens: number;
}

/** A fleet's run so far. */
export interface FleetView {
  readonly name: string;
  readonly tasks: number | null;
  readonly started: number;
  readonly finished: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly tokens: number;
  readonly cost: number;
  readonly maxTokens: number | null;
  readonly maxCost: number | null;
  readonly stopReason: string | null;
}

/** One point of a limit's chart: time (epoch s), used, limit. */
export type HistoryPoint = readonly [number, number, number];

/** Everything the page shows. */
export interface Snapshot {
  readonly title: string;
  readonly pid: number;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly now: number;
  readonly governors: readonly GovernorView[];
  readonly calls: CallsView;
  readonly agents: readonly AgentView[];
  readonly activeAgents: number;
  readonly fleet: FleetView | null;
  /** Chart points by `governor\u0001limit`, oldest first (sent on connect only). */
  readonly history?: Readonly<Record<string, readonly HistoryPoint[]>>;
}

/** The key of a limit's history. */
export const historyKey = (governor: string, limit: string) => `${governor}\u0001${limit}`;
