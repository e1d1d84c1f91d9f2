// POST /chat and POST /stream/{conversation_id}.
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import { HttpError } from '../errors.js';
import { errorResponse } from '../routes/schemas.js';
import type { GatewayServices } from '../services.js';
import type { ChatRequestBody } from './Conversations.js';
import { chatRequestBody, conversationParams, objectAnswer, streamRequestBody } from './schemas.js';

type IdParams = { conversation_id: string };

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  409: errorResponse,
  429: errorResponse,
};

/** The chat and streaming routes of the conversation service. */
export const chatRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;

  app.post<{ Body: ChatRequestBody }>(
    '/chat',
    {
      onRequest: requirePermission(services, 'write'),
      schema: {
        summary: 'Run a multi-agent conversation and answer with its consensus',
        tags: ['conversations'],
        security: [{ bearer: [] }],
        body: chatRequestBody,
        response: { 200: objectAnswer, 502: objectAnswer, 500: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const started = await conversations.start(request.principal!, request.body);
      const result = await started.done;
      if (!result)
        throw new HttpError(500, 'internal_error', 'The conversation ran but could not be read back.', {
          type: 'server_error',
        });
      if (result.metadata.status === 'completed') return result;
      const error = result.metadata.error ?? { code: 'failed', message: 'The conversation failed.' };
      return reply.code(502).send({ ...result, error: { ...error, type: 'server_error' } });
    },
  );

  app.post<{ Body: Omit<ChatRequestBody, 'conversation_id'>; Params: IdParams }>(
    '/stream/:conversation_id',
    {
      onRequest: requirePermission(services, 'write'),
      schema: {
        summary: 'Start a conversation in the background; watch it at websocket_url',
        tags: ['conversations'],
        security: [{ bearer: [] }],
        params: conversationParams,
        body: streamRequestBody,
        response: { 200: objectAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const id = request.params.conversation_id;
      await conversations.start(request.principal!, { ...request.body, conversation_id: id });
      return reply.code(200).send({ conversation_id: id, status: 'started', websocket_url: `/ws/${id}` });
    },
  );
};
