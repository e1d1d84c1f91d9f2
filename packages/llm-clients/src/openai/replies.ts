// An OpenAI chat completion, whole or as stream chunks, in Tollgate's provider-neutral shapes.
import type { Usage } from '@tollgate/core';
import type OpenAI from 'openai';
import { MalformedResponseError } from '../errors.js';
import type { ChatChunk, ChatResponse, RateLimitInfo, ToolCall } from '../types.js';
import { readUsage } from '../usage.js';

/** Where a reply came from and what it was asked for, for its checks and errors. */
export interface ReplyContext {
  readonly provider: string;
  readonly requestId: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  /** The `max_tokens` sent: a completion count above it is malformed. */
  readonly maxTokens: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A whole reply; throws `MalformedResponseError` for one without choices or with bad tool calls or usage. */
export function toChatResponse(data: OpenAI.ChatCompletion, ctx: ReplyContext): ChatResponse {
  const { requestId, rateLimit } = ctx;
  const choice = data?.choices?.[0];
  if (!choice?.message)
    throw new MalformedResponseError('the reply has no choices', { provider: ctx.provider, requestId });
  const toolCalls: ToolCall[] = [];
  for (const call of choice.message.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    const { id, function: fn } = call as {
      id: unknown;
      function?: { name?: unknown; arguments?: unknown };
    };
    if (
      typeof id !== 'string' ||
      typeof fn?.name !== 'string' ||
      !fn.name ||
      typeof fn.arguments !== 'string'
    ) {
      throw badToolCall(call, ctx);
    }
    toolCalls.push({ id, name: fn.name, arguments: fn.arguments });
  }
  return {
    id: data.id,
    model: data.model,
    content: choice.message.content ?? null,
    toolCalls,
    finishReason: finishReason(choice.finish_reason),
    usage: replyUsage(data.usage, ctx),
    ...(requestId ? { requestId } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  };
}

/**
 * One chunk of a streamed reply; the first carries the reply's id, model, request id and
 * rate-limit headers. Throws `MalformedResponseError` for bad tool-call fragments or usage.
 */
export function toChatChunk(chunk: OpenAI.ChatCompletionChunk, first: boolean, ctx: ReplyContext): ChatChunk {
  const { requestId, rateLimit } = ctx;
  const choice = chunk.choices[0];
  const deltas = choice?.delta.tool_calls;
  return {
    ...(first ? { id: chunk.id, model: chunk.model, ...(requestId ? { requestId } : {}) } : {}),
    ...(choice?.delta.content ? { content: choice.delta.content } : {}),
    ...(deltas ? { toolCallDeltas: deltas.map((d) => toolCallDelta(d, ctx)) } : {}),
    ...(choice?.finish_reason ? { finishReason: finishReason(choice.finish_reason) } : {}),
    ...(chunk.usage ? { usage: replyUsage(chunk.usage, ctx) } : {}),
    ...(first && rateLimit ? { rateLimit } : {}),
  };
}

/**
 * A streamed tool-call fragment, whose id, name and arguments must be strings where present
 * (a `null` is taken as absent); throws `MalformedResponseError` otherwise.
 */
function toolCallDelta(
  delta: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall,
  ctx: ReplyContext,
): NonNullable<ChatChunk['toolCallDeltas']>[number] {
  const { id, function: fn } = delta as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
  const ok = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  if (!(ok(id) && (fn === undefined || fn === null || (isObject(fn) && ok(fn.name) && ok(fn.arguments))))) {
    throw badToolCall(delta, ctx);
  }
  return {
    index: delta.index,
    ...(delta.id ? { id: delta.id } : {}),
    ...(delta.function?.name ? { name: delta.function.name } : {}),
    ...(delta.function?.arguments ? { arguments: delta.function.arguments } : {}),
  };
}

function badToolCall(call: unknown, ctx: ReplyContext): MalformedResponseError {
  return new MalformedResponseError(
    `the reply has a tool call that is not an id, a name and arguments as strings: ${JSON.stringify(call)?.slice(0, 200)}`,
    { provider: ctx.provider, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) },
  );
}

/** The reply's usage in our shape; throws `MalformedResponseError` when it is missing or bad. */
function replyUsage(u: OpenAI.CompletionUsage | undefined, ctx: ReplyContext): Usage {
  const usage = readUsage(
    u && {
      promptTokens: u.prompt_tokens,
      completionTokens: u.completion_tokens,
      totalTokens: u.total_tokens,
    },
    { provider: ctx.provider, requestId: ctx.requestId },
    ctx.maxTokens,
  );
  if (MalformedResponseError.is(usage)) throw usage;
  return usage;
}

function finishReason(reason: string | null | undefined): ChatResponse['finishReason'] {
  return reason === 'stop' || reason === 'length' || reason === 'tool_calls' || reason === 'content_filter'
    ? reason
    : 'other';
}
