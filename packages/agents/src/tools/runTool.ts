// One tool call run: arguments checked, executed under its timeout, result turned into text.
import { abortReason, type Clock, linkAbort, type TimerHandle, TollgateError } from '@tollgate/core';
import type { ToolCall } from '@tollgate/llm-clients';
import {
  InvalidToolArgumentsError,
  ToolExecutionError,
  ToolResultError,
  ToolTimeoutError,
  UnknownToolError,
} from '../errors.js';
import type { Tool } from './defineTool.js';
import type { ToolRegistry } from './ToolRegistry.js';

/**
 * The most characters one tool result puts into the conversation; a longer one is cut there,
 * with a line saying how long it was. Bounds what a tool (or whatever it read) can cost in
 * tokens, and what the token counter has to count.
 */
export const DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000;

/** How one tool call went. `content` is what the model is told. */
export interface ToolOutcome {
  readonly callId: string;
  readonly name: string;
  readonly ok: boolean;
  /** The tool's result (when `ok`). */
  readonly result?: unknown;
  /** The message sent back to the model: the result, or the error. */
  readonly content: string;
  /** Why it failed (when not `ok`): invalid arguments, unknown tool, timeout or the tool's own error. */
  readonly error?: TollgateError;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface RunToolOptions {
  /** The task's signal: when it aborts the task is over, so this rejects with its reason. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly agentId: string;
  readonly taskId: string;
  /**
   * Called once the call is known to be valid, right before the tool runs (the agent acquires
   * its `toolCalls` here, so malformed calls cost nothing). What it returns is called after.
   */
  readonly admit?: () => Promise<(() => void) | undefined>;
  /** Longest result text sent to the model. @default DEFAULT_MAX_TOOL_RESULT_CHARS */
  readonly maxResultChars?: number | undefined;
  /**
   * Told of the tool's execution as it starts. `runTool` settles as soon as the call's signal
   * aborts; the execution may run on, and its owner can wait for it to stop.
   */
  readonly track?: ((execution: Promise<unknown>) => void) | undefined;
}

type Settled = { ok: true; result: unknown } | { ok: false; error: TollgateError };

/**
 * Runs one tool call the model asked for. Failures the model can act on (unknown tool,
 * malformed or invalid arguments, a tool that threw or timed out) come back as a failed
 * outcome whose `content` tells the model what went wrong, as does a result that cannot be
 * turned into text; only the end of the task itself (its signal) rejects. A result longer
 * than `maxResultChars` is cut, with a line saying so.
 */
export async function runTool(
  registry: ToolRegistry,
  call: ToolCall,
  options: RunToolOptions,
): Promise<ToolOutcome> {
  const { clock, signal } = options;
  let startedAt = clock.now();
  const maxChars = options.maxResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS;
  const done = (settled: Settled): ToolOutcome => {
    const told = tell(call.name, settled, maxChars);
    return {
      callId: call.id,
      name: call.name,
      ...told.settled,
      content: told.content,
      startedAt,
      durationMs: clock.now() - startedAt,
    };
  };
  if (signal.aborted) throw abortReason(signal);
  const tool = registry.get(call.name);
  if (!tool) return done({ ok: false, error: new UnknownToolError(call.name, registry.names) });
  const args = parseArguments(tool, call.arguments);
  if (args instanceof InvalidToolArgumentsError) return done({ ok: false, error: args });

  const release = await options.admit?.();
  startedAt = clock.now();
  const timeoutMs = tool.timeoutMs ?? options.timeoutMs;
  const scope = linkAbort(signal);
  let timer: TimerHandle | undefined;
  try {
    const outcome = await new Promise<Settled>((resolve, reject) => {
      scope.signal.addEventListener(
        'abort',
        () =>
          signal.aborted ? reject(abortReason(signal)) : resolve({ ok: false, error: scope.signal.reason }),
        { once: true },
      );
      timer = clock.setTimeout(() => scope.abort(new ToolTimeoutError(tool.name, timeoutMs)), timeoutMs);
      const execution = Promise.resolve().then(() =>
        tool.execute(args.value, {
          signal: scope.signal,
          agentId: options.agentId,
          taskId: options.taskId,
          callId: call.id,
        }),
      );
      options.track?.(execution);
      execution.then(
        (result) => resolve({ ok: true, result }),
        (error: unknown) =>
          resolve({
            ok: false,
            error: TollgateError.is(error) ? error : new ToolExecutionError(tool.name, error),
          }),
      );
    });
    return done(outcome);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.unlink();
    release?.();
  }
}

function parseArguments(tool: Tool, raw: string): { value: unknown } | InvalidToolArgumentsError {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (error) {
    return new InvalidToolArgumentsError(tool.name, [`not valid JSON (${(error as Error).message})`], error);
  }
  const parsed = tool.parameters.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  return new InvalidToolArgumentsError(
    tool.name,
    parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`),
    parsed.error,
  );
}

/** What the model is told of a settled call; a result that cannot become text turns into a failure. */
function tell(tool: string, settled: Settled, maxChars: number): { settled: Settled; content: string } {
  if (!settled.ok) return { settled, content: `Error: ${settled.error.message}` };
  let text: string;
  try {
    text = toText(settled.result);
  } catch (cause) {
    const error = new ToolResultError(tool, cause);
    return { settled: { ok: false, error }, content: `Error: ${error.message}` };
  }
  return { settled, content: truncate(text, maxChars) };
}

/** A string as is, anything else as JSON (`null` for nothing); throws when it has no text form. */
function toText(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return 'null';
  // JSON.stringify gives `undefined` for a function or a symbol: their own text then.
  return JSON.stringify(result) ?? String(result);
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // Never cut a surrogate pair in two.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
  return `${text.slice(0, end)}\n[truncated: the result has ${text.length} characters; the first ${end} are shown]`;
}
