// OpenAI's chat completions API: bearer key, `messages`, `max_completion_tokens`/`max_tokens`, `usage`.
import type { CountableMessage } from '@tollgate/core';
import { object, objects, type ProviderProtocol, type RawUsage } from './ProviderProtocol.js';

const fromOpenAI = (u: unknown): RawUsage | undefined => {
  if (typeof u !== 'object' || u === null) return undefined;
  const o = u as Record<string, unknown>;
  return {
    promptTokens: o.prompt_tokens,
    completionTokens: o.completion_tokens,
    totalTokens: o.total_tokens,
  };
};

/** OpenAI's `POST /v1/chat/completions` (and any compatible provider). */
export const openaiProtocol: ProviderProtocol = {
  name: 'openai',
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  countable: (request) => ({
    messages: objects(request.body.messages) as unknown as CountableMessage[],
    tools: Array.isArray(request.body.tools) ? [...request.body.tools] : undefined,
  }),
  maxOutputTokens: (request) => {
    const n = request.body.max_completion_tokens ?? request.body.max_tokens;
    return typeof n === 'number' ? n : undefined;
  },
  replyUsage: (reply) => fromOpenAI(object(reply).usage),
  readStreamData(data, into) {
    for (const choice of objects(object(data).choices)) {
      const delta = object(choice.delta);
      if (typeof delta.content === 'string') into.text += delta.content;
      for (const call of objects(delta.tool_calls)) {
        const fn = object(call.function);
        into.text += `${typeof fn.name === 'string' ? fn.name : ''}${typeof fn.arguments === 'string' ? fn.arguments : ''}`;
      }
    }
    const usage = fromOpenAI(object(data).usage);
    if (usage) into.usage = usage;
  },
  streamErrorEvent: (error) =>
    `data: ${JSON.stringify({ error: { message: error.message, type: 'server_error', code: error.code, param: null } })}\n\n`,
  passedHeaders: ['x-request-id', 'openai-processing-ms'],
  healthPath: '/models',
};
