// Builds GenAI spans from agents' events: `invoke_agent` per task, `chat` per LLM call (with
// its admissions at the tollgate as span events) and `execute_tool` per tool call.
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Usage } from '@tollgate/core';
import type { CallTarget } from '../clientEvents.js';
import { ADMITTED_EVENT, GEN_AI, SPAN_NAMES, TOLLGATE_ATTR } from '../conventions.js';
import { wallNow } from './wallNow.js';

interface Admission {
  readonly governor: string;
  readonly waitedMs: number;
  readonly at: number;
}

/** How a task ended, for its span. */
export interface TaskEnd {
  readonly status: string;
  readonly usage: Usage;
  readonly agentName?: string | undefined;
  readonly responseModel?: string | undefined;
  readonly error?: string | undefined;
}

/** One LLM call of an agent's task (the agent's `llm-call` event). */
export interface LlmCall {
  readonly taskId: string;
  readonly usage: Usage;
  readonly finishReason: string;
  readonly durationMs: number;
}

/** One tool call of an agent's task (the agent's `tool-call` event). */
export interface ToolCallEnd {
  readonly taskId: string;
  readonly name: string;
  readonly callId: string;
  readonly ok: boolean;
  readonly error?: string | undefined;
  readonly durationMs: number;
}

const usageAttributes = (usage: Usage): Attributes => ({
  [GEN_AI.inputTokens]: usage.promptTokens,
  [GEN_AI.outputTokens]: usage.completionTokens,
});

/** Open task spans and what is known of each agent's call in flight. */
export class SpanTracker {
  readonly #tracer: Tracer;
  readonly #tasks = new Map<string, Span>();
  readonly #admissions = new Map<string, Admission[]>();
  readonly #attempts = new Map<string, number>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** Opens the task's `invoke_agent` span. */
  taskStarted(agentId: string, taskId: string, agentName: string): void {
    const span = this.#tracer.startSpan(SPAN_NAMES.invokeAgent(agentName), {
      kind: SpanKind.INTERNAL,
      startTime: wallNow(),
      attributes: {
        [GEN_AI.operationName]: GEN_AI.operations.invokeAgent,
        [GEN_AI.agentId]: agentId,
        [GEN_AI.agentName]: agentName,
        [TOLLGATE_ATTR.taskId]: taskId,
      },
    });
    this.#tasks.set(`${agentId}\u0001${taskId}`, span);
  }

  /** Ends the task's span with its usage and status. */
  taskFinished(agentId: string, taskId: string, end: TaskEnd): void {
    const key = `${agentId}\u0001${taskId}`;
    const span = this.#tasks.get(key);
    if (!span) return;
    this.#tasks.delete(key);
    if (end.agentName) {
      span.updateName(SPAN_NAMES.invokeAgent(end.agentName));
      span.setAttribute(GEN_AI.agentName, end.agentName);
    }
    span.setAttributes({ ...usageAttributes(end.usage), [TOLLGATE_ATTR.taskStatus]: end.status });
    if (end.responseModel) span.setAttribute(GEN_AI.responseModel, end.responseModel);
    if (end.status !== 'completed') {
      span.setAttribute(GEN_AI.errorType, end.status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: end.error ?? end.status });
    }
    span.end(wallNow());
  }

  /** An admission of an LLM call (a cost with requests) labelled with an agent id. */
  admitted(label: string, governor: string, waitedMs: number): void {
    const list = this.#admissions.get(label) ?? [];
    list.push({ governor, waitedMs, at: wallNow() });
    this.#admissions.set(label, list);
  }

  /** The attempt number of an agent's call that has just succeeded. */
  attempt(agentId: string, attempt: number): void {
    this.#attempts.set(agentId, attempt);
  }

  /** A `chat` span for an LLM call that has ended, under its task's span when open. */
  llmCall(agentId: string, call: LlmCall, target: CallTarget): void {
    const admissions = this.#admissions.get(agentId) ?? [];
    this.#admissions.delete(agentId);
    const attempt = this.#attempts.get(agentId) ?? 1;
    this.#attempts.delete(agentId);
    const parent = this.#tasks.get(`${agentId}\u0001${call.taskId}`);
    const span = this.#chatSpan(call.durationMs, target, parent, {
      ...usageAttributes(call.usage),
      [GEN_AI.finishReasons]: [call.finishReason],
      [GEN_AI.agentId]: agentId,
      [TOLLGATE_ATTR.attempt]: attempt,
      [TOLLGATE_ATTR.waitSeconds]: admissions.reduce((sum, a) => sum + a.waitedMs, 0) / 1000,
    });
    for (const a of admissions)
      span.addEvent(
        ADMITTED_EVENT,
        { [TOLLGATE_ATTR.governor]: a.governor, [TOLLGATE_ATTR.waitSeconds]: a.waitedMs / 1000 },
        a.at,
      );
    span.end(wallNow());
  }

  /** A `chat` span for a call of a client instrumented on its own. */
  clientCall(durationMs: number, attempt: number, usage: Usage, target: CallTarget): void {
    const span = this.#chatSpan(durationMs, target, undefined, {
      ...usageAttributes(usage),
      [TOLLGATE_ATTR.attempt]: attempt,
    });
    span.end(wallNow());
  }

  /** An `execute_tool` span for a tool call that has ended. */
  toolCall(agentId: string, call: ToolCallEnd): void {
    const parent = this.#tasks.get(`${agentId}\u0001${call.taskId}`);
    const end = wallNow();
    const span = this.#tracer.startSpan(
      SPAN_NAMES.executeTool(call.name),
      {
        kind: SpanKind.INTERNAL,
        startTime: end - call.durationMs,
        attributes: {
          [GEN_AI.operationName]: GEN_AI.operations.executeTool,
          [GEN_AI.toolName]: call.name,
          [GEN_AI.toolCallId]: call.callId,
          [GEN_AI.toolType]: 'function',
        },
      },
      parent ? trace.setSpan(context.active(), parent) : undefined,
    );
    if (!call.ok) {
      span.setAttribute(GEN_AI.errorType, 'tool_error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: call.error ?? 'tool failed' });
    }
    span.end(end);
  }

  /** Ends the task spans still open (their tasks outlived the instrumentation). */
  dispose(): void {
    for (const span of this.#tasks.values()) {
      span.setAttribute(TOLLGATE_ATTR.taskStatus, 'unfinished');
      span.end(wallNow());
    }
    this.#tasks.clear();
    this.#admissions.clear();
    this.#attempts.clear();
  }

  #chatSpan(durationMs: number, target: CallTarget, parent: Span | undefined, attributes: Attributes): Span {
    const end = wallNow();
    return this.#tracer.startSpan(
      SPAN_NAMES.chat(target.model),
      {
        kind: SpanKind.CLIENT,
        startTime: end - durationMs,
        attributes: {
          [GEN_AI.operationName]: GEN_AI.operations.chat,
          [GEN_AI.providerName]: target.provider,
          [GEN_AI.requestModel]: target.model,
          ...attributes,
        },
      },
      parent ? trace.setSpan(context.active(), parent) : undefined,
    );
  }
}
