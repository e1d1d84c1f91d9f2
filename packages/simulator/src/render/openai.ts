// Rendering in OpenAI's chat completions protocol: the completion, its SSE stream and errors.
import type { ServerResponse } from 'node:http';
import type { Reply } from '../compose.js';
import type { SimulatorContext } from '../context.js';
import { sleep } from '../delivery.js';
import type { HttpError } from '../HttpError.js';
import { sendJson } from './json.js';

/** OpenAI's `usage` of a completion. */
export interface OpenAIUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** What one completion's body and chunks share. */
export interface OpenAICompletionBase {
  readonly id: string;
  /** Seconds on the simulator's clock. */
  readonly created: number;
  readonly model: string;
}

/** The fields every chunk and completion of request number `sequence` carries. */
export function completionBase(ctx: SimulatorContext, sequence: number, model: string): OpenAICompletionBase {
  return { id: `chatcmpl-sim-${sequence}`, created: Math.floor(ctx.clock.now() / 1000), model };
}

/** Answers with OpenAI's error body `{ error: { message, type, param, code } }`. */
export function sendOpenAIError(res: ServerResponse, error: HttpError): void {
  const { message, type, param, code } = error;
  sendJson(res, error.status, { error: { message, type, param, code } }, error.headers);
}

/** A `chat.completion` body. */
export function chatCompletion(base: OpenAICompletionBase, reply: Reply, usage: OpenAIUsage): unknown {
  const message = {
    role: 'assistant',
    content: reply.content,
    refusal: null,
    ...(reply.toolCalls ? { tool_calls: reply.toolCalls } : {}),
  };
  return {
    ...base,
    object: 'chat.completion',
    choices: [{ index: 0, message, finish_reason: reply.finishReason, logprobs: null }],
    usage,
  };
}

/** How one streamed completion is sent. */
export interface OpenAIStream {
  readonly headers: Record<string, string>;
  readonly base: OpenAICompletionBase;
  readonly reply: Reply;
  readonly usage: OpenAIUsage;
  /** The whole reply's latency, spread evenly over its chunks. */
  readonly delayMs: number;
  /** `stream_options.include_usage`: a last chunk with the usage. */
  readonly includeUsage: boolean;
}

/** Streams a completion as server-sent `chat.completion.chunk`s, then `[DONE]`; stops if the client goes. */
export async function streamChatCompletion(
  ctx: SimulatorContext,
  res: ServerResponse,
  { headers, base, reply, usage, delayMs, includeUsage }: OpenAIStream,
): Promise<void> {
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  const parts = deltas(reply);
  const step = delayMs / parts.length;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  for (const delta of parts) {
    if (!(await sleep(ctx, res, step))) return;
    res.write(`data: ${JSON.stringify(chunk(delta, null))}\n\n`);
  }
  res.write(`data: ${JSON.stringify(chunk({}, reply.finishReason))}\n\n`);
  if (includeUsage) {
    const last = { ...base, object: 'chat.completion.chunk', choices: [], usage };
    res.write(`data: ${JSON.stringify(last)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

/** The deltas of a streamed reply: the role, then the tool calls or the text word by word. */
function deltas(reply: Reply): Record<string, unknown>[] {
  const parts: Record<string, unknown>[] = [{ role: 'assistant', content: '' }];
  if (reply.toolCalls) {
    parts.push({ tool_calls: reply.toolCalls.map((c, index) => ({ index, ...c })) });
  } else {
    for (const word of (reply.content ?? '').split(/(?<= )/)) parts.push({ content: word });
  }
  return parts;
}
