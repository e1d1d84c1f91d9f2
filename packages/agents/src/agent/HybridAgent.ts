// HybridAgent: an LLM agent that acts with tools, every call and tool governed.
import { type Clock, DisposedError, InvalidArgumentError, type Logger, linkAbort } from '@tollgate/core';
import type { Governor, ResourceStatus } from '@tollgate/limits';
import type { ChatMessage, ChatResponse } from '@tollgate/llm-clients';
import { inject, injectable } from 'inversify';
import { type Observable, Subject } from 'rxjs';
import { AGENT_TOKENS } from '../container/tokens.js';
import type { IdSource } from '../ids/IdSource.js';
import type { PricingTable } from '../pricing.js';
import type { ToolRegistry } from '../tools/ToolRegistry.js';
import { type Conversation, type ConversationHost, converse } from './conversation.js';
import { type AgentEventInput, agentEvents } from './events.js';
import type { AgentClient } from './factories.js';
import { type AnyTool, resolveTools } from './resolveTools.js';
import { AGENT_DEFAULTS, checkAgentSettings } from './settings.js';
import { settleWithin } from './settleWithin.js';
import { newTaskRun, type TaskRun, taskResult } from './taskRun.js';
import { TaskWork } from './taskWork.js';
import type {
  AgentDeps,
  AgentEvent,
  AgentResourceStatus,
  AgentTask,
  NormalizedTask,
  TaskContext,
  TaskResult,
} from './types.js';
import { wireAgent } from './wiring.js';

export type { AnyTool } from './resolveTools.js';

/** What `parseOutput` gets besides the final text. */
export interface OutputInfo {
  readonly task: NormalizedTask;
  readonly context: TaskContext;
  readonly response: ChatResponse;
}

/**
 * An agent that reasons with an LLM and acts with tools, every call governed. Subclass it:
 * give it a `systemPrompt` and `tools`, optionally override the hooks (`buildMessages`,
 * `parseOutput`, `onInitialize`) and the settings (`model`, `temperature`, `maxTokens`,
 * `maxIterations`, `toolTimeoutMs`). No constructor is needed: the dependencies arrive as
 * one `AgentDeps` object (injected by the container, or passed by hand).
 *
 * A task runs inside `governor.runTask` (a concurrency slot, the memory cap, the task
 * timeout), then loops: LLM call through the agent's client (agent limits, then the
 * shared provider limits) → tool calls in parallel, each taking `toolCalls` from the
 * agent's governor and bounded by its timeout → results back to the model → until a final
 * answer or `maxIterations`. The governor and the client come from the deps' factories
 * (an in-process `ResourceGovernor` and a `GovernedClient` by default).
 *
 * @example
 * class Researcher extends HybridAgent {
 *   readonly systemPrompt = 'You research questions using the tools.';
 *   override readonly tools = [search];
 * }
 * const result = await new Researcher({ client }).executeTask('What is a tollgate?');
 */
@injectable()
export abstract class HybridAgent<TOutput = string> {
  readonly agentId: string;
  readonly name: string;
  /** The agent's own governor (its limits, its tasks). */
  readonly governor: Governor;
  /** The shared provider governor, when there is one. */
  readonly providerGovernor: Governor | undefined;
  /** Every LLM call of this agent goes through it (a `GovernedClient` by default). */
  readonly client: AgentClient;
  /** This agent's governor's status, now and on every change. */
  readonly status$: Observable<ResourceStatus>;
  readonly events$: Observable<AgentEvent>;

  /** The system message. */
  abstract readonly systemPrompt: string;
  /** The tools, or names of tools in the container's shared registry. */
  readonly tools: readonly (AnyTool | string)[] = [];
  /** @default the client's model */
  readonly model: string | undefined = undefined;
  readonly temperature: number | undefined = undefined;
  /** Output tokens per call (also what each call reserves). @default the governed client's default */
  readonly maxTokens: number | undefined = undefined;
  /** Model turns before `MaxIterationsExceededError`. */
  readonly maxIterations: number = AGENT_DEFAULTS.maxIterations;
  /** Per tool call, unless the tool sets its own. */
  readonly toolTimeoutMs: number = AGENT_DEFAULTS.toolTimeoutMs;
  /**
   * When a task ends, the signals of its tools still running are aborted and the task waits
   * for them to stop, at most this long (a tool that ignores its signal is then left behind,
   * with a warning in the log).
   */
  readonly toolStopGraceMs: number = AGENT_DEFAULTS.toolStopGraceMs;
  /** The most characters one tool result puts into the conversation; longer ones are cut with a marker. */
  readonly maxToolResultChars: number = AGENT_DEFAULTS.maxToolResultChars;

  protected readonly clock: Clock;
  protected readonly logger: Logger;
  protected readonly pricing: PricingTable;
  readonly #deps: AgentDeps;
  readonly #ids: IdSource | undefined;
  readonly #ownsGovernor: boolean;
  readonly #ownsClient: boolean;
  readonly #events = new Subject<AgentEvent>();
  /** Aborted by `dispose`: every task's signal follows it. */
  readonly #disposal = new AbortController();
  #inflight = 0;
  #host: ConversationHost<TOutput> | undefined;
  #registry: ToolRegistry | undefined;
  #initializing: Promise<void> | undefined;
  #taskSeq = 0;
  #disposed = false;

  constructor(@inject(AGENT_TOKENS.AgentDeps) deps: AgentDeps) {
    const parts = wireAgent(new.target.name, deps);
    this.#deps = deps;
    this.#ids = deps.ids;
    this.#ownsGovernor = parts.ownsGovernor;
    this.#ownsClient = parts.ownsClient;
    ({ agentId: this.agentId, name: this.name, clock: this.clock, logger: this.logger } = parts);
    ({ pricing: this.pricing, governor: this.governor, client: this.client } = parts);
    this.providerGovernor = parts.providerGovernor;
    this.status$ = this.governor.status$;
    this.events$ = agentEvents({ ...parts, own: this.#events });
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Tasks running or waiting for a slot now. */
  get activeTasks(): number {
    return this.#inflight;
  }

  /** The agent's tools, once initialized. */
  get toolRegistry(): ToolRegistry {
    if (!this.#registry) throw new InvalidArgumentError('toolRegistry', 'an initialized agent', undefined);
    return this.#registry;
  }

  /**
   * Resolves the tools and runs `onInitialize` once. `executeTask` calls it; call it
   * yourself to fail early on a misconfigured agent.
   *
   * @throws InvalidArgumentError for a setting out of range (`maxIterations`, `toolTimeoutMs`,
   *   `toolStopGraceMs`, `maxToolResultChars`, `maxTokens`, `temperature`), a tool name the
   *   shared registry does not have, or a duplicate.
   */
  initialize(): Promise<void> {
    this.#initializing ??= (async () => {
      checkAgentSettings(this.name, this);
      this.#registry = resolveTools(this.name, this.tools, this.#deps.toolRegistry);
      await this.onInitialize();
    })().catch((error: unknown) => {
      this.#initializing = undefined;
      throw error;
    });
    return this.#initializing;
  }

  /**
   * Runs one task to its end and reports it. Never rejects: however the task ends, the
   * result says how (`status`, `error`), with the usage, calls and cost up to that point.
   */
  async executeTask(task: AgentTask, context: TaskContext = {}): Promise<TaskResult<TOutput>> {
    const startedAt = this.clock.now();
    const normalized = this.#normalize(task);
    const run = newTaskRun(this.model ?? this.client.model);
    // A task's signal is the agent's (aborted by `dispose`), linked to the caller's only if given.
    const scope = context.signal ? linkAbort(context.signal, this.#disposal.signal) : undefined;
    this.#inflight++;
    this.#emit({ type: 'task-started', taskId: normalized.id });
    let outcome: { output?: TOutput; error?: unknown };
    try {
      outcome = await this.#governed(normalized, context, scope?.signal ?? this.#disposal.signal, run);
    } finally {
      scope?.unlink();
      this.#inflight--;
    }
    const result = taskResult(run, {
      agentId: this.agentId,
      agentName: this.name,
      task: normalized,
      output: outcome.output,
      error: outcome.error,
      startedAt,
      endedAt: this.clock.now(),
    });
    this.#finished(result);
    return result;
  }

  /**
   * Whether a task would start now, and what the governors know: this agent's status,
   * with the provider's under `provider` (a task also needs the provider to admit a request).
   */
  checkResourceAvailability(): AgentResourceStatus {
    const own = this.governor.checkResourceAvailability();
    const provider = this.providerGovernor?.checkResourceAvailability({ requests: 1 });
    if (!provider) return own;
    const available = own.available && provider.available;
    const reason = own.reason ?? (provider.available ? undefined : `provider: ${provider.reason}`);
    const { reason: _own, ...rest } = own;
    return { ...rest, available, ...(reason === undefined ? {} : { reason }), provider };
  }

  /** Resolves `true` as soon as a task would start (its turn included), `false` after `timeoutMs`. Takes nothing. */
  async waitForResources(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    if (!(await this.governor.waitForResources(timeoutMs))) return false;
    if (!this.providerGovernor) return true;
    return this.providerGovernor.waitForResources(Math.max(0, deadline - this.clock.now()), { requests: 1 });
  }

  /**
   * Aborts every task in flight (their results say `aborted`), rejects tasks waiting for a
   * slot, releases everything and completes `events$`. The shared provider governor is left
   * alone; this agent's own governor is disposed unless it was passed in, and its client only
   * if its client factory marked it `ownedByAgent` (as the default factory does).
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#disposal.abort(new DisposedError(`Agent '${this.agentId}'`));
    if (this.#ownsGovernor) this.governor.dispose();
    if (this.#ownsClient) this.client.dispose?.();
    // Aborted tasks still report `task-finished`; the stream completes after the last one.
    if (this.#inflight === 0) this.#events.complete();
  }

  /** Called once by `initialize`, after the tools are resolved. */
  protected onInitialize(): void | Promise<void> {}

  /** The conversation a task starts with. @default system prompt, `context.history`, the task as a user message */
  protected buildMessages(task: NormalizedTask, context: TaskContext): ChatMessage[] {
    return [
      { role: 'system', content: this.systemPrompt },
      ...(context.history ?? []),
      { role: 'user', content: task.input },
    ];
  }

  /** Turns the final answer into the task's output; throw to fail the task. @default the text itself */
  protected parseOutput(content: string, _info: OutputInfo): TOutput | Promise<TOutput> {
    return content as TOutput;
  }

  /**
   * The task inside `governor.runTask`: its output, or what ended it. A timeout or a cancel
   * ends the task at once: its work is aborted and the task waits for it to stop, briefly.
   */
  async #governed(
    task: NormalizedTask,
    context: TaskContext,
    signal: AbortSignal,
    run: TaskRun,
  ): Promise<{ output?: TOutput; error?: unknown }> {
    let admitted: Promise<TOutput> | undefined;
    try {
      if (this.#disposed) throw new DisposedError(`Agent '${this.agentId}'`);
      await this.initialize();
      const output = await this.governor.runTask(
        (admittedSignal) => {
          run.admittedAt = this.clock.now();
          admitted = this.#admitted(task, context, admittedSignal, run);
          return admitted;
        },
        {
          signal,
          label: this.agentId,
          ...(context.taskTimeoutMs === undefined ? {} : { taskTimeoutMs: context.taskTimeoutMs }),
          ...(context.priority === undefined ? {} : { priority: context.priority }),
        },
      );
      return { output };
    } catch (error) {
      if (admitted) await this.#stopped([admitted], task.id, 'the task');
      return { error };
    }
  }

  /**
   * The admitted part of a task. However the loop ends (an answer, an error, one tool call
   * refused), everything it started is aborted, and the task waits for its tools to stop
   * (at most `toolStopGraceMs`) before giving its slot back.
   */
  async #admitted(
    task: NormalizedTask,
    context: TaskContext,
    signal: AbortSignal,
    run: TaskRun,
  ): Promise<TOutput> {
    const work = new TaskWork(signal);
    const messages = [...this.buildMessages(task, context)];
    const conversation: Conversation = { task, context, run, messages, signal, work };
    try {
      this.#host ??= this.#newHost();
      return await converse(this.#host, conversation);
    } finally {
      const running = work.end();
      if (running.length > 0) await this.#stopped(running, task.id, 'tool(s)');
    }
  }

  /** What the task loop needs of this agent (made once, after `initialize`). */
  #newHost(): ConversationHost<TOutput> {
    const agent = this; // the methods below are the host's, on behalf of this agent
    return {
      agentId: this.agentId,
      client: this.client,
      governor: this.governor,
      clock: this.clock,
      pricing: this.pricing,
      settings: this,
      registry: this.toolRegistry,
      emit(event) {
        agent.#emit(event);
      },
      parseOutput(content, info) {
        return agent.parseOutput(content, info);
      },
    };
  }

  /** Waits for `work` to settle, at most `toolStopGraceMs`; logs what was left running. */
  async #stopped(work: readonly Promise<unknown>[], taskId: string, what: string): Promise<void> {
    if (await settleWithin(work, this.toolStopGraceMs, this.clock)) return;
    this.logger.warn(`${what} still running ${this.toolStopGraceMs} ms after the task ended`, {
      agentId: this.agentId,
      taskId,
    });
  }

  /** Logs a task that ended without an answer, reports `task-finished`, and ends `events$` after a dispose. */
  #finished(result: TaskResult<TOutput>): void {
    const { taskId, status, error } = result;
    if (error !== undefined)
      this.logger.warn('task ended without an answer', {
        agentId: this.agentId,
        taskId,
        status,
        error: error.message,
      });
    const { usage, cost, durationMs } = result;
    this.#emit({
      type: 'task-finished',
      taskId,
      status,
      usage,
      cost,
      durationMs,
      ...(error ? { error: error.message } : {}),
    });
    if (this.#disposed && this.#inflight === 0) this.#events.complete();
  }

  #normalize(task: AgentTask): NormalizedTask {
    if (typeof task === 'string') return { id: this.#nextTaskId(), input: task, metadata: {} };
    if (!task || typeof task.input !== 'string')
      throw new InvalidArgumentError('task', 'a string or { input: string }', task);
    return { id: task.id ?? this.#nextTaskId(), input: task.input, metadata: task.metadata ?? {} };
  }

  #nextTaskId(): string {
    const prefix = `${this.agentId}/task`;
    return this.#ids ? this.#ids.next(prefix) : `${prefix}-${++this.#taskSeq}`;
  }

  #emit(event: AgentEventInput): void {
    // Nobody listening is the common case at scale: no event object, no stamp.
    if (this.#events.closed || !this.#events.observed) return;
    this.#events.next({ ...event, agentId: this.agentId, at: this.clock.now() } as AgentEvent);
  }
}
