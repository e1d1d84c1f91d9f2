import {
  AbortError,
  addUsage,
  type Clock,
  checkOptions,
  DisposedError,
  EMPTY_USAGE,
  InvalidArgumentError,
  type LinkedAbort,
  type Logger,
  linkAbort,
  numberIn,
  optionRules,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  rule,
  silentLogger,
  systemClock,
  TaskTimeoutError,
  TiktokenCounter,
  TOKENS,
  TollgateError,
  type Usage,
} from '@tollgate/core';
import { type Governor, type GovernorEvent, ResourceGovernor, type ResourceStatus } from '@tollgate/limits';
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  GovernedClient,
  type ToolCall,
} from '@tollgate/llm-clients';
import { inject, injectable } from 'inversify';
import { endWith, filter, ignoreElements, map, merge, type Observable, Subject, takeUntil } from 'rxjs';
import { MaxIterationsExceededError, OutputParseError } from '../errors.js';
import { costOf, DEFAULT_PRICING, type PricingTable } from '../pricing.js';
import type { Tool } from '../tools/defineTool.js';
import { DEFAULT_MAX_TOOL_RESULT_CHARS, runTool, type ToolOutcome } from '../tools/runTool.js';
import { ToolRegistry } from '../tools/ToolRegistry.js';
import { settleWithin } from './settleWithin.js';
import { typedCounter } from './typedCounter.js';
import type {
  AgentDeps,
  AgentEvent,
  AgentResourceStatus,
  AgentTask,
  NormalizedTask,
  TaskContext,
  TaskResult,
  TaskStatus,
  ToolCallRecord,
} from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: a tool list holds tools of any argument and result types.
export type AnyTool = Tool<any, any>;

/** What `parseOutput` gets besides the final text. */
export interface OutputInfo {
  readonly task: NormalizedTask;
  readonly context: TaskContext;
  readonly response: ChatResponse;
}

/** Everything one task accumulates while it runs. */
interface TaskRun {
  usage: Usage;
  llmCalls: number;
  iterations: number;
  cost: number;
  model: string;
  finishReason: ChatResponse['finishReason'] | undefined;
  admittedAt: number | undefined;
  messages: ChatMessage[];
  readonly tools: ToolCallRecord[];
}

const AGENT_DEFAULTS = {
  maxIterations: 10,
  toolTimeoutMs: 30_000,
  toolStopGraceMs: 5_000,
  maxToolResultChars: DEFAULT_MAX_TOOL_RESULT_CHARS,
} as const;
const counters = new Map<string, number>();
/** Provider governor events about one caller's acquire that its agent passes on. */
const HELD_BACK: ReadonlySet<GovernorEvent['type']> = new Set([
  'would-block',
  'queued',
  'rejected',
  'timeout',
]);

/**
 * An agent that reasons with an LLM and acts with tools, every call governed. Subclass it:
 * give it a `systemPrompt` and `tools`, optionally override the hooks (`buildMessages`,
 * `parseOutput`, `onInitialize`) and the settings (`model`, `temperature`, `maxTokens`,
 * `maxIterations`, `toolTimeoutMs`). No constructor is needed: the dependencies arrive as
 * one `AgentDeps` object (injected by the container, or passed by hand).
 *
 * A task runs inside `governor.runTask` (a concurrency slot, the memory cap, the task
 * timeout), then loops: LLM call through the governed client (agent limits, then the
 * shared provider limits) → tool calls in parallel, each taking `toolCalls` from the
 * agent's governor and bounded by its timeout → results back to the model → until a final
 * answer or `maxIterations`.
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
  readonly governor: ResourceGovernor;
  /** The shared provider governor, when there is one. */
  readonly providerGovernor: Governor | undefined;
  /** Every LLM call of this agent goes through it. */
  readonly client: GovernedClient;
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
  readonly #ownsGovernor: boolean;
  readonly #events = new Subject<AgentEvent>();
  readonly #inflight = new Set<LinkedAbort>();
  #registry: ToolRegistry | undefined;
  #initializing: Promise<void> | undefined;
  #taskSeq = 0;
  #disposed = false;

  constructor(@inject(TOKENS.AgentDeps) deps: AgentDeps) {
    if (!deps || typeof deps.client?.chat !== 'function')
      throw new InvalidArgumentError(`${new.target.name}.client`, 'an LLMClient', deps?.client);
    checkOptions(new.target.name, deps, {
      agentId: optionRules.string,
      name: optionRules.string,
      clientOptions: rule('an object', (v) => typeof v === 'object' && v !== null),
    });
    this.#deps = deps;
    this.agentId = deps.agentId ?? nextAgentId(new.target.name);
    this.name = deps.name ?? new.target.name;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.pricing = { ...DEFAULT_PRICING, ...deps.pricing };
    this.#ownsGovernor = deps.governor === undefined;
    this.governor =
      deps.governor ??
      new ResourceGovernor(deps.limits ?? {}, {
        clock: this.clock,
        logger: this.logger,
        name: this.agentId,
        ...(deps.memoryProbe ? { memoryProbe: deps.memoryProbe } : {}),
      });
    this.providerGovernor = deps.providerGovernor;
    this.client = new GovernedClient(deps.client, {
      ...deps.clientOptions,
      governors: deps.providerGovernor ? [this.governor, deps.providerGovernor] : [this.governor],
      providerGovernor: deps.providerGovernor ?? this.governor,
      tokenCounter: typedCounter(deps.tokenCounter ?? new TiktokenCounter()),
      clock: this.clock,
      logger: this.logger,
      label: this.agentId,
    });
    this.status$ = this.governor.status$;
    const fromGovernor = map(
      (event: GovernorEvent): AgentEvent => ({
        type: 'governor',
        agentId: this.agentId,
        at: event.at,
        event,
      }),
    );
    this.events$ = merge(
      this.#events,
      this.governor.events$.pipe(fromGovernor),
      // The shared provider governor's word on this agent's own calls: held back, or would have been.
      ...(deps.providerGovernor && deps.providerGovernor !== this.governor
        ? [
            deps.providerGovernor.events$.pipe(
              filter((e) => this.#heldBack(e)),
              fromGovernor,
              // The shared governor outlives the agent: its stream ends with the agent's own.
              takeUntil(this.#events.pipe(ignoreElements(), endWith(undefined))),
            ),
          ]
        : []),
      this.client.events$.pipe(
        map((event): AgentEvent => ({ type: 'client', agentId: this.agentId, at: this.clock.now(), event })),
      ),
    );
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Tasks running or waiting for a slot now. */
  get activeTasks(): number {
    return this.#inflight.size;
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
      this.#checkSettings();
      const registry = new ToolRegistry();
      for (const entry of this.tools) {
        if (typeof entry !== 'string') {
          registry.register(entry);
          continue;
        }
        const shared = this.#deps.toolRegistry?.get(entry);
        if (!shared)
          throw new InvalidArgumentError(
            `${this.name}.tools`,
            `names of tools in the shared registry (${this.#deps.toolRegistry?.names.join(', ') || 'empty'})`,
            entry,
          );
        registry.register(shared);
      }
      this.#registry = registry;
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
    const run: TaskRun = {
      usage: EMPTY_USAGE,
      llmCalls: 0,
      iterations: 0,
      cost: 0,
      model: this.model ?? this.client.model,
      finishReason: undefined,
      admittedAt: undefined,
      messages: [],
      tools: [],
    };
    const scope = linkAbort(context.signal);
    this.#inflight.add(scope);
    this.#emit({ type: 'task-started', taskId: normalized.id });
    let output: TOutput | undefined;
    let error: unknown;
    let admitted: Promise<TOutput> | undefined;
    try {
      if (this.#disposed) throw new DisposedError(`Agent '${this.agentId}'`);
      await this.initialize();
      output = await this.governor.runTask(
        (signal) => {
          run.admittedAt = this.clock.now();
          admitted = this.#admitted(normalized, context, signal, run);
          return admitted;
        },
        {
          signal: scope.signal,
          label: this.agentId,
          ...(context.taskTimeoutMs === undefined ? {} : { taskTimeoutMs: context.taskTimeoutMs }),
          ...(context.priority === undefined ? {} : { priority: context.priority }),
        },
      );
    } catch (caught) {
      error = caught;
      // A timeout or a cancel ends the task at once: its work is aborted and stops shortly.
      if (admitted) await this.#stopped([admitted], normalized.id, 'the task');
    } finally {
      scope.unlink();
      this.#inflight.delete(scope);
    }
    const now = this.clock.now();
    const status = error === undefined ? 'completed' : statusOf(error);
    const result: TaskResult<TOutput> = {
      taskId: normalized.id,
      agentId: this.agentId,
      agentName: this.name,
      status,
      ok: status === 'completed',
      output,
      ...(error === undefined ? {} : { error: toError(error) }),
      usage: run.usage,
      llmCalls: run.llmCalls,
      toolCalls: run.tools.length,
      tools: [...run.tools],
      iterations: run.iterations,
      cost: run.cost,
      model: run.model,
      ...(run.finishReason === undefined ? {} : { finishReason: run.finishReason }),
      startedAt,
      queuedMs: (run.admittedAt ?? now) - startedAt,
      durationMs: now - startedAt,
      messages: [...run.messages],
    };
    if (error !== undefined)
      this.logger.warn('task ended without an answer', {
        agentId: this.agentId,
        taskId: result.taskId,
        status,
        error: result.error?.message,
      });
    this.#emit({
      type: 'task-finished',
      taskId: result.taskId,
      status,
      usage: result.usage,
      cost: result.cost,
      durationMs: result.durationMs,
      ...(result.error ? { error: result.error.message } : {}),
    });
    if (this.#disposed && this.#inflight.size === 0) this.#events.complete();
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
   * alone; this agent's own governor is disposed unless it was passed in.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const scope of this.#inflight) scope.abort(new DisposedError(`Agent '${this.agentId}'`));
    if (this.#ownsGovernor) this.governor.dispose();
    this.client.dispose();
    // Aborted tasks still report `task-finished`; the stream completes after the last one.
    if (this.#inflight.size === 0) this.#events.complete();
  }

  /** The settings a subclass may override, checked once (they are set after the constructor). */
  #checkSettings(): void {
    checkOptions(this.name, this, {
      maxIterations: optionRules.positiveInt,
      toolTimeoutMs: optionRules.positive,
      toolStopGraceMs: optionRules.nonNegative,
      maxToolResultChars: optionRules.positiveInt,
      maxTokens: optionRules.positiveInt,
      temperature: numberIn(0, 2),
      model: optionRules.string,
      systemPrompt: rule('a string', (v) => typeof v === 'string'),
    });
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
    const work = linkAbort(signal);
    const executions = new Set<Promise<unknown>>();
    const track = (execution: Promise<unknown>) => {
      executions.add(execution);
      const done = () => executions.delete(execution);
      execution.then(done, done);
    };
    try {
      return await this.#loop(task, context, work.signal, run, track);
    } finally {
      work.abort(new AbortError('The task ended'));
      await this.#stopped([...executions], task.id, 'tool(s)');
    }
  }

  /** Waits for `work` to settle, at most `toolStopGraceMs`; logs what was left running. */
  async #stopped(work: readonly Promise<unknown>[], taskId: string, what: string): Promise<void> {
    if (await settleWithin(work, this.toolStopGraceMs, this.clock)) return;
    this.logger.warn(`${what} still running ${this.toolStopGraceMs} ms after the task ended`, {
      agentId: this.agentId,
      taskId,
    });
  }

  async #loop(
    task: NormalizedTask,
    context: TaskContext,
    signal: AbortSignal,
    run: TaskRun,
    track: (execution: Promise<unknown>) => void,
  ): Promise<TOutput> {
    const registry = this.toolRegistry;
    const messages = [...this.buildMessages(task, context)];
    run.messages = messages;
    const tools = registry.size > 0 ? registry.definitions() : undefined;
    for (let iteration = 1; iteration <= this.maxIterations; iteration++) {
      run.iterations = iteration;
      const request: ChatRequest = {
        messages: [...messages],
        ...(tools ? { tools } : {}),
        ...(this.model === undefined ? {} : { model: this.model }),
        ...(this.temperature === undefined ? {} : { temperature: this.temperature }),
        ...(this.maxTokens === undefined ? {} : { maxTokens: this.maxTokens }),
      };
      const started = this.clock.now();
      const response = await this.client.chat(request, { signal });
      run.llmCalls++;
      run.usage = addUsage(run.usage, response.usage);
      run.model = response.model || run.model;
      run.cost += costOf(run.model, response.usage, this.pricing);
      run.finishReason = response.finishReason;
      this.#emit({
        type: 'llm-call',
        taskId: task.id,
        iteration,
        usage: response.usage,
        toolCalls: response.toolCalls.length,
        finishReason: response.finishReason,
        durationMs: this.clock.now() - started,
      });
      if (response.toolCalls.length === 0) {
        const content = response.content ?? '';
        messages.push({ role: 'assistant', content });
        try {
          return await this.parseOutput(content, { task, context, response });
        } catch (error) {
          if (TollgateError.is(error)) throw error;
          throw new OutputParseError(
            `Could not parse the final answer: ${error instanceof Error ? error.message : String(error)}`,
            error,
          );
        }
      }
      messages.push({ role: 'assistant', content: response.content, toolCalls: response.toolCalls });
      const outcomes = await Promise.all(
        response.toolCalls.map((call) => this.#callTool(registry, call, task.id, signal, run, track)),
      );
      for (const outcome of outcomes)
        messages.push({ role: 'tool', toolCallId: outcome.callId, content: outcome.content });
    }
    throw new MaxIterationsExceededError(this.maxIterations);
  }

  async #callTool(
    registry: ToolRegistry,
    call: ToolCall,
    taskId: string,
    signal: AbortSignal,
    run: TaskRun,
    track: (execution: Promise<unknown>) => void,
  ): Promise<ToolOutcome> {
    const outcome = await runTool(registry, call, {
      signal,
      clock: this.clock,
      timeoutMs: this.toolTimeoutMs,
      maxResultChars: this.maxToolResultChars,
      track,
      agentId: this.agentId,
      taskId,
      admit: async () => {
        const lease = await this.governor.acquire({ toolCalls: 1 }, { signal, label: this.agentId });
        return () => lease.release();
      },
    });
    run.tools.push({
      callId: outcome.callId,
      name: outcome.name,
      arguments: call.arguments,
      ok: outcome.ok,
      ...(outcome.error ? { errorCode: outcome.error.code, error: outcome.error.message } : {}),
      startedAt: outcome.startedAt,
      durationMs: outcome.durationMs,
    });
    this.#emit({
      type: 'tool-call',
      taskId,
      name: outcome.name,
      callId: outcome.callId,
      ok: outcome.ok,
      ...(outcome.error ? { error: outcome.error.message } : {}),
      durationMs: outcome.durationMs,
    });
    return outcome;
  }

  #heldBack(event: GovernorEvent): boolean {
    return HELD_BACK.has(event.type) && 'label' in event && event.label === this.agentId;
  }

  #normalize(task: AgentTask): NormalizedTask {
    if (typeof task === 'string') return { id: this.#nextTaskId(), input: task, metadata: {} };
    if (!task || typeof task.input !== 'string')
      throw new InvalidArgumentError('task', 'a string or { input: string }', task);
    return { id: task.id ?? this.#nextTaskId(), input: task.input, metadata: task.metadata ?? {} };
  }

  #nextTaskId(): string {
    return `${this.agentId}/task-${++this.#taskSeq}`;
  }

  #emit(event: DistributiveOmit<AgentEvent, 'agentId' | 'at'>): void {
    if (this.#events.closed) return;
    this.#events.next({ ...event, agentId: this.agentId, at: this.clock.now() } as AgentEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function statusOf(error: unknown): TaskStatus {
  if (ResourceLimitExceededError.is(error) || ResourceWaitTimeoutError.is(error)) return 'rejected';
  if (TaskTimeoutError.is(error)) return 'timeout';
  if (AbortError.is(error) || DisposedError.is(error)) return 'aborted';
  return 'failed';
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function nextAgentId(className: string): string {
  const base = className.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase() || 'agent';
  const n = (counters.get(base) ?? 0) + 1;
  counters.set(base, n);
  return `${base}-${n}`;
}
