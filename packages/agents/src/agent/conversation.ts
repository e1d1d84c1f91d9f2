// The loop of one admitted task: model call, tool calls in parallel, results back, until an answer.
import { addUsage, type Clock, TollgateError } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { ChatMessage, ChatRequest, ChatResponse, ToolCall } from '@tollgate/llm-clients';
import { MaxIterationsExceededError, OutputParseError } from '../errors.js';
import { costOf, type PricingTable } from '../pricing.js';
import { runTool, type ToolOutcome } from '../tools/runTool.js';
import type { ToolRegistry } from '../tools/ToolRegistry.js';
import type { AgentEventInput } from './events.js';
import type { AgentClient } from './factories.js';
import type { AgentSettings } from './settings.js';
import type { TaskRun } from './taskRun.js';
import type { TaskWork } from './taskWork.js';
import type { NormalizedTask, TaskContext } from './types.js';

/** What the loop needs of its agent. */
export interface ConversationHost<TOutput> {
  readonly agentId: string;
  readonly client: AgentClient;
  readonly governor: Governor;
  readonly clock: Clock;
  readonly pricing: PricingTable;
  readonly settings: AgentSettings;
  readonly registry: ToolRegistry;
  emit(event: AgentEventInput): void;
  /** The agent's `parseOutput` hook. */
  parseOutput(
    content: string,
    info: { task: NormalizedTask; context: TaskContext; response: ChatResponse },
  ): TOutput | Promise<TOutput>;
}

/** One task's conversation: its run, its opening messages, its signal and its tool work. */
export interface Conversation {
  readonly task: NormalizedTask;
  readonly context: TaskContext;
  readonly run: TaskRun;
  readonly messages: ChatMessage[];
  /** The task's signal: model calls listen to it. */
  readonly signal: AbortSignal;
  /** Tool executions run under its signal and are tracked by it, so the task can stop them when it ends. */
  readonly work: TaskWork;
}

/**
 * Calls the model, runs the tools it asks for (in parallel) and sends their results back,
 * until a final answer (parsed by the host) or `maxIterations`.
 * @throws MaxIterationsExceededError, OutputParseError, or what a call or the signal throws.
 */
export async function converse<TOutput>(host: ConversationHost<TOutput>, c: Conversation): Promise<TOutput> {
  const { run, messages } = c;
  run.messages = messages;
  const tools = host.registry.size > 0 ? host.registry.definitions() : undefined;
  const { maxIterations } = host.settings;
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    run.iterations = iteration;
    const response = await call(host, c, iteration, tools);
    if (response.toolCalls.length === 0) {
      const content = response.content ?? '';
      messages.push({ role: 'assistant', content });
      return parse(host, content, { task: c.task, context: c.context, response });
    }
    messages.push({ role: 'assistant', content: response.content, toolCalls: response.toolCalls });
    const outcomes = await Promise.all(response.toolCalls.map((tc) => callTool(host, c, tc)));
    for (const outcome of outcomes)
      messages.push({ role: 'tool', toolCallId: outcome.callId, content: outcome.content });
  }
  throw new MaxIterationsExceededError(maxIterations);
}

/** One model call, counted in the run and reported as an `llm-call` event. */
async function call<TOutput>(
  host: ConversationHost<TOutput>,
  { task, run, messages, signal }: Conversation,
  iteration: number,
  tools: ChatRequest['tools'],
): Promise<ChatResponse> {
  const { model, temperature, maxTokens } = host.settings;
  const request: ChatRequest = {
    messages: [...messages],
    ...(tools ? { tools } : {}),
    ...(model === undefined ? {} : { model }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
  };
  const started = host.clock.now();
  const response = await host.client.chat(request, { signal });
  run.llmCalls++;
  run.usage = addUsage(run.usage, response.usage);
  run.model = response.model || run.model;
  run.cost += costOf(run.model, response.usage, host.pricing);
  run.finishReason = response.finishReason;
  host.emit({
    type: 'llm-call',
    taskId: task.id,
    iteration,
    usage: response.usage,
    toolCalls: response.toolCalls.length,
    finishReason: response.finishReason,
    durationMs: host.clock.now() - started,
  });
  return response;
}

async function parse<TOutput>(
  host: ConversationHost<TOutput>,
  content: string,
  info: { task: NormalizedTask; context: TaskContext; response: ChatResponse },
): Promise<TOutput> {
  try {
    return await host.parseOutput(content, info);
  } catch (error) {
    if (TollgateError.is(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new OutputParseError(`Could not parse the final answer: ${message}`, error);
  }
}

/** One tool call: it takes `toolCalls` from the agent's governor once valid; recorded and reported. */
async function callTool<TOutput>(
  host: ConversationHost<TOutput>,
  { task, run, work }: Conversation,
  call: ToolCall,
): Promise<ToolOutcome> {
  const { agentId } = host;
  const signal = work.toolSignal;
  const outcome = await runTool(host.registry, call, {
    signal,
    clock: host.clock,
    timeoutMs: host.settings.toolTimeoutMs,
    maxResultChars: host.settings.maxToolResultChars,
    track: (execution) => work.track(execution),
    agentId,
    taskId: task.id,
    admit: async () => {
      const lease = await host.governor.acquire({ toolCalls: 1 }, { signal, label: agentId });
      return () => lease.release();
    },
  });
  const failure = outcome.error ? { errorCode: outcome.error.code, error: outcome.error.message } : {};
  const { callId, name, ok, startedAt, durationMs } = outcome;
  run.tools.push({ callId, name, arguments: call.arguments, ok, ...failure, startedAt, durationMs });
  const error = outcome.error ? { error: outcome.error.message } : {};
  host.emit({ type: 'tool-call', taskId: task.id, name, callId, ok, ...error, durationMs });
  return outcome;
}
