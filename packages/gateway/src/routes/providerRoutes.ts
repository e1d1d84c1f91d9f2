// Anthropic's POST /v1/messages and Gemini's generateContent, governed like chat completions.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { keyFromHeader } from '../auth/apiKeyHeader.js';
import { requirePermission } from '../auth/authHook.js';
import { HttpError } from '../errors.js';
import type { ChatProxy } from '../proxy/ChatProxy.js';
import type { ForwardRequest } from '../proxy/protocols/ProviderProtocol.js';
import type { GatewayServices } from '../services.js';
import { clientGone } from './openaiRoutes.js';
import { anthropicMessagesBody, errorResponse, geminiGenerateBody } from './schemas.js';

const responses = {
  200: { description: "The provider's answer, passed through", type: 'object', additionalProperties: true },
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  429: errorResponse,
};

const GEMINI_PATH = /^([^/:]+):(generateContent|streamGenerateContent)$/;
/** The characters a Gemini model name may have: it becomes part of the upstream path as is. */
const GEMINI_MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Forwards `request` through `proxy` and sends its answer. */
async function forward(
  proxy: ChatProxy | undefined,
  name: string,
  principal: Parameters<ChatProxy['forward']>[0],
  request: ForwardRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (!proxy)
    throw new HttpError(404, 'upstream_not_configured', `This gateway has no ${name} upstream configured.`);
  const signal = clientGone(reply.raw, () => reply.raw.writableFinished);
  const answer = await proxy.forward(principal, request, signal);
  return reply
    .code(answer.status as 200)
    .headers(answer.headers)
    .send(answer.body);
}

/** The Anthropic and Gemini routes, as a fastify plugin over the gateway's services. */
export const providerRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const write = requirePermission(services, 'write');
  app.post<{ Body: Record<string, unknown> & { model: string } }>(
    '/v1/messages',
    {
      onRequest: [keyFromHeader('x-api-key'), write],
      schema: {
        summary: "Anthropic's Messages API (JSON or SSE), governed by the key and the Anthropic quota",
        tags: ['anthropic'],
        security: [{ bearer: [] }, { anthropicKey: [] }],
        body: anthropicMessagesBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const version = request.headers['anthropic-version'];
      const beta = request.headers['anthropic-beta'];
      const headers = {
        ...(typeof version === 'string' ? { 'anthropic-version': version } : {}),
        ...(typeof beta === 'string' ? { 'anthropic-beta': beta } : {}),
      };
      const body = request.body;
      const forwarded = { path: '/v1/messages', body, model: body.model, headers };
      return forward(services.providers.anthropic, 'Anthropic', request.principal!, forwarded, reply);
    },
  );
  app.post<{ Body: Record<string, unknown>; Params: { '*': string }; Querystring: { alt?: string } }>(
    '/v1beta/models/*',
    {
      onRequest: [keyFromHeader('x-goog-api-key'), write],
      schema: {
        summary:
          "Gemini's `{model}:generateContent` and `{model}:streamGenerateContent` (`?alt=sse`), governed by the key and the Gemini quota",
        tags: ['gemini'],
        security: [{ bearer: [] }, { geminiKey: [] }],
        querystring: { type: 'object', properties: { alt: { type: 'string', enum: ['sse', 'json'] } } },
        body: geminiGenerateBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const match = GEMINI_PATH.exec(request.params['*']);
      if (!match)
        throw new HttpError(
          404,
          'not_found',
          'Expected /v1beta/models/{model}:generateContent or :streamGenerateContent.',
        );
      const [, model = '', method] = match;
      if (!GEMINI_MODEL.test(model))
        throw new HttpError(
          400,
          'invalid_request',
          'A Gemini model name has only letters, digits, ".", "_" and "-".',
          { param: 'model' },
        );
      const query = method === 'streamGenerateContent' ? `?alt=${request.query.alt ?? 'sse'}` : '';
      const forwarded = {
        path: `/v1beta/models/${model}:${method}${query}`,
        body: request.body,
        model,
      };
      return forward(services.providers.gemini, 'Gemini', request.principal!, forwarded, reply);
    },
  );
};
