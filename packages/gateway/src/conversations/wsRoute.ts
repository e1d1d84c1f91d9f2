// WS /ws/{conversation_id}: a conversation's messages so far, then each one as it happens.
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { requirePermission } from '../auth/authHook.js';
import { keyFromWebSocketProtocol } from '../auth/webSocketProtocolKey.js';
import type { GatewayServices } from '../services.js';
import type { StreamMessage } from './messages.js';
import { replayOf } from './replay.js';
import { conversationParams } from './schemas.js';

type IdParams = { conversation_id: string };

/** Sends `message`; closes the socket after a conversation's last message. */
function send(socket: WebSocket, message: StreamMessage): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify(message));
  if (message.type === 'completed' || message.type === 'failed') socket.close(1000, 'conversation ended');
}

/**
 * The WebSocket route. The upgrade is refused (401, 403, 404) before any message unless
 * the credential is valid, carries `read`, and owns the conversation (or is an admin). The
 * credential is the `authorization` header or, from a browser, a `bearer.KEY` entry of
 * `Sec-WebSocket-Protocol` (see `keyFromWebSocketProtocol`).
 */
export const wsRoute: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  await app.register(websocket, { options: { maxPayload: 4_096 } });

  app.get<{ Params: IdParams }>(
    '/ws/:conversation_id',
    {
      websocket: true,
      onRequest: [keyFromWebSocketProtocol(), requirePermission(services, 'read')],
      preHandler: async (request: FastifyRequest<{ Params: IdParams }>) => {
        await conversations.readable(request.principal!, request.params.conversation_id);
      },
      schema: {
        summary: 'Watch a conversation: what happened so far, then each message as it happens',
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
