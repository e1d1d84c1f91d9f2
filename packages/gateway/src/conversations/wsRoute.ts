// WS /ws/{conversation_id}: a conversation's messages so far, then each one as it happens.
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { requirePermission } from '../auth/authHook.js';
import { keyFromWebSocketProtocol } from '../auth/webSocketProtocolKey.js';
import { HttpError } from '../errors.js';
import { errorResponse } from '../routes/schemas.js';
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

/** The route as the OpenAPI document shows it: a GET that upgrades to a WebSocket. */
const wsRouteSchema = {
  summary: 'Watch a conversation: what happened so far, then each message as it happens',
  description:
    'A WebSocket: open it with `GET` and `Connection: Upgrade`, `Upgrade: websocket` (a plain ' +
    'GET is answered 426). The credential is the `authorization` header or, from a browser, a ' +
    '`bearer.KEY` entry of `Sec-WebSocket-Protocol`; a refusal is an HTTP status before any ' +
    'message. Once open the server sends one JSON text message per event, every one so far ' +
    'then each as it happens: `started`, `agent_token`, `agent_response`, `consensus_update`, ' +
    '`completed`, `failed`, each with `type`, `conversation_id`, `seq` and `timestamp`. It ' +
    'closes with 1000 after `completed` or `failed` (1013 while another gateway runs it). ' +
    'Messages from the client are ignored; a frame over 4096 bytes closes the socket.',
  tags: ['conversations'],
  security: [{ bearer: [] }],
  params: conversationParams,
  response: {
    101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' },
    401: errorResponse,
    403: errorResponse,
    404: errorResponse,
    426: { description: 'Upgrade Required: a GET without a WebSocket upgrade', ...errorResponse },
  },
} as const;

/**
 * The WebSocket route. The upgrade is refused (401, 403, 404) before any message unless
 * the credential is valid, carries `read`, and owns the conversation (or is an admin). The
 * credential is the `authorization` header or, from a browser, a `bearer.KEY` entry of
 * `Sec-WebSocket-Protocol` (see `keyFromWebSocketProtocol`).
 */
export const wsRoute: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  await app.register(websocket, { options: { maxPayload: 4_096 } });

  // The full declaration (`handler` + `wsHandler`) rather than `websocket: true`, which
  // @fastify/websocket hides from the OpenAPI document: this one is documented there.
  app.route<{ Params: IdParams }>({
    method: 'GET',
    url: '/ws/:conversation_id',
    onRequest: [keyFromWebSocketProtocol(), requirePermission(services, 'read')],
    preHandler: async (request: FastifyRequest<{ Params: IdParams }>) => {
      await conversations.readable(request.principal!, request.params.conversation_id);
    },
    schema: wsRouteSchema,
    handler: async () => {
      throw new HttpError(
        426,
        'upgrade_required',
        'GET /ws/{conversation_id} is a WebSocket: send an upgrade.',
        {
          headers: { upgrade: 'websocket', connection: 'Upgrade' },
        },
      );
    },
    wsHandler: async (socket, request) => {
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
  });
};
