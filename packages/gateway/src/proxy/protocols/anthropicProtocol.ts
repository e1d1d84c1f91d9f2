// Anthropic's Messages API: `x-api-key`, `system` + `messages`, `max_tokens`, input/output usage.
import type { CountableMessage } from '@tollgate/core';
import { object, objects, type ProviderProtocol, type RawUsage } from './ProviderProtocol.js';

/** The Messages API version the gateway sends when the client named none. */
export const ANTHROPIC_VERSION = '2023-06-01';

const fromAnthropic = (u: Record<string, unknown>, input: unknown): RawUsage => {
  const output = u.output_tokens;
  const total = typeof input === 'number' && typeof output === 'number' ? input + output : undefined;
  return { promptTokens: input, completionTokens: output, totalTokens: total };
};

/** Anthropic's `POST /v1/messages`, JSON or streamed as named SSE events. */
export const anthropicProtocol: ProviderProtocol = {
  name: 'anthropic',
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey }),
  defaultHeaders: { 'anthropic-version': ANTHROPIC_VERSION },
  countable(request) {
    const system = request.body.system;
    const messages = objects(request.body.messages) as unknown as CountableMessage[];
    const head: CountableMessage[] =
      typeof system === 'string' || Array.isArray(system)
        ? [{ role: 'system', content: system as CountableMessage['content'] }]
        : [];
    return {
      messages: [...head, ...messages],
      tools: Array.isArray(request.body.tools) ? [...request.body.tools] : undefined,
    };
  },
  maxOutputTokens: (request) =>
    typeof request.body.max_tokens === 'number' ? request.body.max_tokens : undefined,
  replyUsage(reply) {
    const usage = object(object(reply).usage);
    return Object.keys(usage).length === 0 ? undefined : fromAnthropic(usage, usage.input_tokens);
  },
  readStreamData(data, into) {
    const event = object(data);
    if (event.type === 'message_start') {
      const usage = object(object(event.message).usage);
      into.usage = fromAnthropic(usage, usage.input_tokens);
    } else if (event.type === 'content_block_delta') {
      const delta = object(event.delta);
      if (typeof delta.text === 'string') into.text += delta.text;
      if (typeof delta.partial_json === 'string') into.text += delta.partial_json;
    } else if (event.type === 'message_delta') {
      // Output so far is cumulative; input stays as message_start told it.
      into.usage = fromAnthropic(object(event.usage), into.usage?.promptTokens);
    } else if (event.type === 'message_stop') into.done = true;
  },
  streamErrorEvent: (error) =>
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: error.code === 'upstream_timeout' ? 'timeout_error' : 'api_error', message: error.message } })}\n\n`,
  passedHeaders: ['request-id'],
  healthPath: '/v1/models',
};
