// The content of a reply, whatever the protocol: text of a seeded length, or a tool call.
import type { CountableMessage } from '@tollgate/core';
import type { SimulatorContext } from './context.js';
import { hash, Random } from './Random.js';
import { generateText, sampleArguments } from './responses.js';

/** A tool the caller offers, in the neutral shape every protocol maps to. */
export interface OfferedTool {
  readonly function?: { readonly name?: string; readonly parameters?: unknown };
}

/** What a reply is composed from. */
export interface ReplyRequest {
  readonly model: string;
  readonly messages: readonly CountableMessage[];
  readonly tools: readonly OfferedTool[];
  /** `'none'` forbids tools; `{ function: { name } }` forces one. */
  readonly toolChoice?: unknown;
  /** The most completion tokens. */
  readonly maxOut: number;
  /** The admitted request's number (makes tool call ids unique). */
  readonly sequence: number;
}

/** A tool call of a reply. */
export interface ReplyToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** A composed reply, before any protocol renders it. */
export interface Reply {
  readonly content: string | null;
  readonly toolCalls: ReplyToolCall[] | undefined;
  readonly finishReason: 'tool_calls' | 'length' | 'stop';
  readonly completionTokens: number;
}

/**
 * Composes a deterministic reply (seeded by the simulator's seed, the messages and the
 * model): a tool call while the conversation has taken fewer than `toolTurns` tool turns
 * since the last user message (or when one is forced), else text.
 */
export function composeReply(ctx: SimulatorContext, request: ReplyRequest): Reply {
  const { messages, tools, model, toolChoice } = request;
  const r = new Random(ctx.seed ^ hash(JSON.stringify(messages)) ^ hash(model));
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  // A turn is an assistant message that called tools; its results follow it.
  const toolTurnsTaken = messages
    .slice(lastUser + 1)
    .filter((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0).length;
  const forced =
    typeof toolChoice === 'object' && toolChoice !== null
      ? (toolChoice as { function?: { name?: string } }).function?.name
      : undefined;
  if (tools.length > 0 && toolChoice !== 'none' && (toolTurnsTaken < ctx.toolTurns || forced)) {
    const tool = tools.find((t) => t.function?.name === forced) ?? tools[r.int(0, tools.length - 1)]!;
    return toolCallReply(ctx, tool, r, request.sequence);
  }
  const [min, max] = ctx.completionTokens;
  const text = generateText(r, ctx.counter, r.int(min, max), request.maxOut);
  return {
    content: text.text,
    toolCalls: undefined,
    finishReason: text.truncated ? 'length' : 'stop',
    completionTokens: text.tokens,
  };
}

function toolCallReply(ctx: SimulatorContext, tool: OfferedTool, r: Random, sequence: number): Reply {
  const name = tool.function?.name ?? 'tool';
  const args = JSON.stringify(sampleArguments(tool.function?.parameters as never, r));
  const id = `call_sim_${hash(args + name + sequence).toString(36)}`;
  return {
    content: null,
    toolCalls: [{ id, type: 'function', function: { name, arguments: args } }],
    finishReason: 'tool_calls',
    completionTokens: ctx.counter.countText(name + args) + 4,
  };
}
