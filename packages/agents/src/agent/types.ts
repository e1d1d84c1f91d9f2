// The shapes of the agents layer: tasks, their results and statuses, agent events and deps.
import type { Clock, Logger, TokenCounter, Usage } from '@tollgate/core';
import type { Governor, GovernorEvent, MemoryProbe, ResourceLimits, ResourceStatus } from '@tollgate/limits';
import type {
  ChatMessage,
  ChatResponse,
  ClientEvent,
  GovernedClientOptions,
  LLMClient,
} from '@tollgate/llm-clients';
import type { IdSource } from '../ids/IdSource.js';
import type { PricingTable } from '../pricing.js';
import type { ToolRegistry } from '../tools/ToolRegistry.js';
import type { AgentClientFactory, GovernorFactory } from './factories.js';

/** A task: its text, or the text with an id and metadata. */
export type AgentTask =
  | string
  | {
      /** @default `<agentId>/task-<n>` */
      readonly id?: string | undefined;
      readonly input: string;
      readonly metadata?: Readonly<Record<string, unknown>> | undefined;
    };

/** A task with its id settled. */
export interface NormalizedTask {
  readonly id: string;
  readonly input: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** How one `executeTask` call runs. */
export interface TaskContext {
  /** Cancels the task: the in-flight LLM call and tools are aborted, everything is released. */
  readonly signal?: AbortSignal | undefined;
  /** @default the limits' `taskTimeoutSeconds` */
  readonly taskTimeoutMs?: number | undefined;
  /** Higher is admitted first among tasks waiting for this agent's slots. @default 0 */
  readonly priority?: number | undefined;
  /** Earlier conversation, placed between the system prompt and the task. */
  readonly history?: readonly ChatMessage[] | undefined;
  /** Free-form values for the subclass's hooks. */
  readonly variables?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * How a task ended. `rejected`: never admitted (reject mode, wait timeout, a cost no limit
 * can grant); `timeout`: ran past its task timeout; `aborted`: cancelled or the agent was
 * disposed; `failed`: anything else (provider errors, `maxIterations`, output parsing).
 */
export type TaskStatus = 'completed' | 'failed' | 'timeout' | 'rejected' | 'aborted';

/** One tool call of a task. */
export interface ToolCallRecord {
  readonly callId: string;
  readonly name: string;
  /** The raw JSON the model wrote. */
  readonly arguments: string;
  readonly ok: boolean;
  /** The error's code and message when not `ok`. */
  readonly errorCode?: string;
  readonly error?: string;
  readonly startedAt: number;
  readonly durationMs: number;
}

/** What `executeTask` resolves with: always, however the task ended. */
export interface TaskResult<TOutput = string> {
  readonly taskId: string;
  readonly agentId: string;
  readonly agentName: string;
  readonly status: TaskStatus;
  /** `status === 'completed'`. */
  readonly ok: boolean;
  /** The parsed final answer (when completed). */
  readonly output: TOutput | undefined;
  /** The typed error (when not completed). */
  readonly error?: Error;
  /** Tokens of every LLM call of the task, including those of a task that failed later. */
  readonly usage: Usage;
  readonly llmCalls: number;
  readonly toolCalls: number;
  readonly tools: readonly ToolCallRecord[];
  /** Model turns taken. */
  readonly iterations: number;
  /** Dollars, by the pricing table; 0 for unpriced models. */
  readonly cost: number;
  readonly model: string;
  readonly finishReason?: ChatResponse['finishReason'];
  /** Clock time `executeTask` was called. */
  readonly startedAt: number;
  /** Time spent waiting for a slot before the task started. */
  readonly queuedMs: number;
  readonly durationMs: number;
  /** The conversation as it ended. */
  readonly messages: readonly ChatMessage[];
}

interface AgentEventBase {
  readonly agentId: string;
  /** Clock time, ms. */
  readonly at: number;
}

/**
 * Everything an agent does, as it happens: its governor's and its client's events, and the
 * shared provider governor's `would-block`, `queued`, `rejected` and `timeout` events about
 * this agent's own calls (`event.governor` names the governor). A subscriber that throws
 * crashes the process (RxJS rethrows it asynchronously): catch inside your callbacks.
 */
export type AgentEvent = AgentEventBase &
  (
    | { readonly type: 'task-started'; readonly taskId: string }
    | {
        readonly type: 'llm-call';
        readonly taskId: string;
        readonly iteration: number;
        readonly usage: Usage;
        readonly toolCalls: number;
        readonly finishReason: ChatResponse['finishReason'];
        readonly durationMs: number;
      }
    | {
        readonly type: 'tool-call';
        readonly taskId: string;
        readonly name: string;
        readonly callId: string;
        readonly ok: boolean;
        readonly error?: string;
        readonly durationMs: number;
      }
    | {
        readonly type: 'task-finished';
        readonly taskId: string;
        readonly status: TaskStatus;
        readonly usage: Usage;
        readonly cost: number;
        readonly durationMs: number;
        readonly error?: string;
      }
    | { readonly type: 'governor'; readonly event: GovernorEvent }
    | { readonly type: 'client'; readonly event: ClientEvent }
  );

/** Options of the governed client an agent builds (the governors, clock, logger and counter come from the deps). */
export type AgentClientOptions = Omit<
  GovernedClientOptions,
  'governors' | 'providerGovernor' | 'clock' | 'logger' | 'tokenCounter' | 'label'
>;

/**
 * What an agent is built from: one object, injected under `AGENT_TOKENS.AgentDeps` by the
 * container, or passed to the constructor by hand (`new MyAgent({ client })`).
 */
export interface AgentDeps {
  /** The provider client, shared by every agent (the agent wraps it with `clientFactory`). */
  readonly client: LLMClient;
  /** This agent's own limits. Ignored when `governor` is given. @default no limits */
  readonly limits?: ResourceLimits | undefined;
  /** Use this governor instead of building one from `limits`; the agent then does not dispose it. */
  readonly governor?: Governor | undefined;
  /** Builds the agent's governor over `limits` (unless `governor` is given). @default resourceGovernorFactory */
  readonly governorFactory?: GovernorFactory | undefined;
  /**
   * Builds the client the agent calls through, from `client`, the governors and
   * `clientOptions`. @default governedClientFactory (a `GovernedClient`)
   */
  readonly clientFactory?: AgentClientFactory | undefined;
  /** Numbers the agent's id (when `agentId` is not given) and its task ids; one per container. */
  readonly ids?: IdSource | undefined;
  /** The provider's quota, shared by every agent on the same key and model (in process or distributed). */
  readonly providerGovernor?: Governor | undefined;
  /** Shared tools the agent may name in `tools`. */
  readonly toolRegistry?: ToolRegistry | undefined;
  /** @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  readonly memoryProbe?: MemoryProbe | undefined;
  /** Merged over `DEFAULT_PRICING`. */
  readonly pricing?: PricingTable | undefined;
  readonly clientOptions?: AgentClientOptions | undefined;
  /**
   * @default `<class name in kebab case>-<n>`, numbered by `ids`; without `ids`, a random
   * suffix instead of `<n>`
   */
  readonly agentId?: string | undefined;
  /** @default the class name */
  readonly name?: string | undefined;
}

/** An agent's resource status: its own governor's, with the provider's when there is one. */
export interface AgentResourceStatus extends ResourceStatus {
  readonly provider?: ResourceStatus;
}
