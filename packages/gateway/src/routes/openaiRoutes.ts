// The OpenAI-compatible API: POST /v1/chat/completions (JSON and SSE) and GET /v1/models.
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import type { ChatCompletionBody } from '../proxy/chatBody.js';
import { callUpstream, passedHeaders } from '../proxy/upstream.js';
import type { GatewayServices } from '../services.js';
import { chatCompletionBody, errorResponse } from './schemas.js';

const errors = {
  200: { description: "The provider's answer, passed through", type: 'object', additionalProperties: true },
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  429: errorResponse,
};

/** An AbortSignal that fires when the client goes away before its answer is complete. */
export function clientGone(
  raw: { once(event: 'close', fn: () => void): unknown },
  done: () => boolean,
): AbortSignal {
  const controller = new AbortController();
  raw.once('close', () => {
    if (!done()) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}

/** The OpenAI-compatible routes, as a fastify plugin over the gateway's services. */
export const openaiRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  app.post<{ Body: ChatCompletionBody }>(
    '/v1/chat/completions',
    {
      onRequest: requirePermission(services, 'write'),
      schema: {
        summary: 'Create a chat completion (JSON or SSE), governed by the key and provider limits',
        tags: ['openai'],
        security: [{ bearer: [] }],
        body: chatCompletionBody,
        response: errors,
      },
    },
    async (request, reply) => {
      const signal = clientGone(reply.raw, () => reply.raw.writableFinished);
      const answer = await services.proxy.chat(request.principal!, request.body, signal);
      return reply
        .code(answer.status as 200)
        .headers(answer.headers)
        .send(answer.body);
    },
  );

  app.get(
    '/v1/models',
    {
      onRequest: requirePermission(services, 'read'),
      schema: {
        summary: "List the provider's models",
        tags: ['openai'],
        security: [{ bearer: [] }],
        response: errors,
      },
    },
    async (_request, reply) => {
      const signal = clientGone(reply.raw, () => reply.raw.writableFinished);
      const response = await callUpstream(services.upstream, '/models', { method: 'GET', signal });
      return reply
        .code(response.status as 200)
        .headers(passedHeaders(response))
        .send(await response.text());
    },
  );
};
