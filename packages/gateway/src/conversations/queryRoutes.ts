// GET /conversations/recent, GET /conversations/{id} and POST /conversations/search.
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import type { Principal } from '../auth/Principal.js';
import { errorResponse } from '../routes/schemas.js';
import type { GatewayServices } from '../services.js';
import { conversationParams, objectAnswer, recentQuery, searchBody } from './schemas.js';

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
/** A route's OpenAPI description. */
export const doc = (summary: string, extra: Record<string, unknown> = {}) => ({
  summary,
  tags: ['conversations'],
  security: [{ bearer: [] }],
  response: { 200: objectAnswer, ...errors },
  ...extra,
});

/** Whose conversations a principal reads: everyone's with `admin`, else its own. */
export const ownerOf = (p: Principal): string | null => (p.permissions.has('admin') ? null : p.id);

/** The listing and search routes of the conversation service. */
export const queryRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  const read = requirePermission(services, 'read');

  app.get<{ Querystring: { limit?: string } }>(
    '/conversations/recent',
    {
      onRequest: read,
      schema: doc('The most recent conversations, newest first', { querystring: recentQuery }),
    },
    async (request) => {
      const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 10)));
      return { conversations: await conversations.queries.recent(ownerOf(request.principal!), limit) };
    },
  );

  app.get<{ Params: { conversation_id: string } }>(
    '/conversations/:conversation_id',
    {
      onRequest: read,
      schema: doc('A conversation with every message and vote', { params: conversationParams }),
    },
    async (request) => {
      const row = await conversations.readable(request.principal!, request.params.conversation_id);
      return conversations.store.detailOf(row);
    },
  );

  app.post<{ Body: { query: string; limit?: number } }>(
    '/conversations/search',
    { onRequest: read, schema: doc("Full-text search over the agents' messages", { body: searchBody }) },
    async (request) => {
      const { query, limit = 10 } = request.body;
      const results = await conversations.queries.search(ownerOf(request.principal!), query, limit);
      return { query, results };
    },
  );
};
