// POST /chat, POST /stream/{conversation_id} and WS /ws/{conversation_id}.
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { requirePermission } from '../auth/authHook.js';
import { HttpError } from '../errors.js';
import { errorResponse } from '../routes/schemas.js';
import type { GatewayServices } from '../services.js';
import type { ChatRequestBody } from './Conversations.js';
import type { StreamMessage } from './messages.js';
import { replayOf } from './replay.js';
import { chatRequestBody, conversationParams, objectAnswer, streamRequestBody } from './schemas.js';

type IdParams = { conversation_id: string };

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 409: errorResponse, 429: errorResponse };

/** Sends `message`; closes the socket after a conversation's last message. */
function send(socket: WebSocket, message: StreamMessage): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(message));
  if (message.type === 'completed' || message.type === 'failed') socket.close(1000, 'conversation ended');
}

/** The chat and streaming routes of the conversation service. */
export const chatRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  await app.register(websocket, { options: { maxPayload: 4_096 } });

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

  app.get<{ Params: IdParams }>(
    '/ws/:conversation_id',
    {
      websocket: true,
      onRequest: requirePermission(services, 'read'),
      preHandler: async (request: FastifyRequest<{ Params: IdParams }>) => {
        await conversations.readable(request.principal!, request.params.conversation_id);
      },
      schema: {
        summary: "Watch a conversation: what happened so far, then each message as it happens",
        tags: ['conversations'],
        security: [{ bearer: [] }],
        params: conversationParams,
      },
    },
    async (socket, request) => {
      const id = request.params.conversation_id;
      const stop = conversations.hub.watch(id, (message) => send(socket, message));
      if (stop) {
        socket.on('close', stop);
        return;
      }
      // Not in memory (ended long ago, or run by another gateway): replay what was stored.
      const detail = await conversations.store.detail(id);
      for (const message of detail ? replayOf(detail) : []) send(socket, message);
      if (detail?.metadata.status === 'running') socket.close(1013, 'running on another gateway');
    },
  );
};
