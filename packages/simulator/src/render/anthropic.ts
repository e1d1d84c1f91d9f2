// Rendering in Anthropic's Messages API protocol: the message, its SSE events and the error body.
import type { ServerResponse } from 'node:http';
import type { Reply } from '../compose.js';
import type { SimulatorContext } from '../context.js';
import { sleep } from '../delivery.js';
import type { HttpError } from '../HttpError.js';
import { sendJson } from './json.js';

/** Anthropic's `usage` of a message (the simulator has no prompt cache: both cache counts are 0). */
export interface AnthropicUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens: number;
  readonly cache_read_input_tokens: number;
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * Answers with Anthropic's error body `{ type: 'error', error: { type, message, details? }, request_id }`.
 * A 503 becomes Anthropic's 529 `overloaded_error`; an error whose code is a spend-limit
 * code carries it as `details.error_code`. Only `retry-after` is sent (Anthropic sends no
 * `retry-after-ms`), and none with a spend limit.
 */
export function sendAnthropicError(res: ServerResponse, error: HttpError): void {
  const status = error.status === 503 ? 529 : error.status;
  const type = ERROR_TYPES[status] ?? 'api_error';
  const details = error.code?.endsWith('_limit_reached') ? { details: { error_code: error.code } } : {};
  const { 'retry-after-ms': _ms, ...headers } = error.headers;
  const body = { type: 'error', error: { type, message: error.message, ...details }, request_id: null };
  sendJson(res, status, body, headers);
}

const STOP_REASONS = { tool_calls: 'tool_use', length: 'max_tokens', stop: 'end_turn' } as const;

/** The content blocks of a reply: its text, or its tool calls as `tool_use` blocks. */
function contentOf(reply: Reply): Array<Record<string, unknown>> {
  if (reply.toolCalls) {
    return reply.toolCalls.map((c) => ({
      type: 'tool_use',
      id: c.id.replace(/^call_/, 'toolu_'),
      name: c.function.name,
      input: JSON.parse(c.function.arguments) as unknown,
    }));
  }
  return [{ type: 'text', text: reply.content ?? '' }];
}

/** A `message` body. */
export function anthropicMessage(id: string, model: string, reply: Reply, usage: AnthropicUsage): unknown {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: contentOf(reply),
    stop_reason: STOP_REASONS[reply.finishReason],
    stop_sequence: null,
    usage,
  };
}

/** How one streamed message is sent. */
export interface AnthropicStream {
  readonly headers: Record<string, string>;
  readonly id: string;
  readonly model: string;
  readonly reply: Reply;
  readonly usage: AnthropicUsage;
  /** The whole reply's latency, spread evenly over its events. */
  readonly delayMs: number;
}

/**
 * Streams a message as Anthropic's server-sent events: `message_start` (with the input
 * usage), a `content_block_start` / `_delta`s / `_stop` per block, `message_delta` (stop
 * reason and output usage) and `message_stop`. Stops if the client goes away.
 */
export async function streamAnthropicMessage(
  ctx: SimulatorContext,
  res: ServerResponse,
  { headers, id, model, reply, usage, delayMs }: AnthropicStream,
): Promise<boolean> {
  const events = streamEvents(id, model, reply, usage);
  const step = delayMs / events.length;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
  for (const event of events) {
    if (!(await sleep(ctx, res, step))) return false;
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
  return true;
}

function streamEvents(id: string, model: string, reply: Reply, usage: AnthropicUsage) {
  const start = { ...(anthropicMessage(id, model, reply, usage) as object), content: [], stop_reason: null };
  const events: Array<Record<string, unknown>> = [
    { type: 'message_start', message: { ...start, usage: { ...usage, output_tokens: 1 } } },
  ];
  contentOf(reply).forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      const delta = { type: 'input_json_delta', partial_json: JSON.stringify(block.input) };
      events.push({ type: 'content_block_delta', index, delta });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const word of String(block.text).split(/(?<= )/)) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: word } });
      }
    }
    events.push({ type: 'content_block_stop', index });
  });
  const stop = { stop_reason: STOP_REASONS[reply.finishReason], stop_sequence: null };
  events.push({ type: 'message_delta', delta: stop, usage: { output_tokens: usage.output_tokens } });
  events.push({ type: 'message_stop' });
  return events;
}
