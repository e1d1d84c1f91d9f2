// GET /conversations/recent, GET /conversations/{id}, POST /conversations/search, GET /statistics,
// POST /admin/cleanup and GET /admin/export.
import type { FastifyPluginAsync } from 'fastify';
import type { Principal } from '../auth/Principal.js';
import { requirePermission } from '../auth/authHook.js';
import { errorResponse } from '../routes/schemas.js';
import type { GatewayServices } from '../services.js';
import { readStatistics } from './statistics.js';
import { conversationParams, daysQuery, objectAnswer, recentQuery, searchBody } from './schemas.js';

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const doc = (summary: string, extra: Record<string, unknown> = {}) => ({
  summary,
  tags: ['conversations'],
  security: [{ bearer: [] }],
  response: { 200: objectAnswer, ...errors },
  ...extra,
});

/** Whose conversations a principal reads: everyone's with `admin`, else its own. */
const ownerOf = (p: Principal): string | null => (p.permissions.has('admin') ? null : p.id);

/** The listing, search, statistics and admin routes of the conversation service. */
export const queryRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  const read = requirePermission(services, 'read');
  const admin = requirePermission(services, 'admin');

  app.get<{ Querystring: { limit?: string } }>(
    '/conversations/recent',
    { onRequest: read, schema: doc('The most recent conversations, newest first', { querystring: recentQuery }) },
    async (request) => {
      const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 10)));
      return { conversations: await conversations.queries.recent(ownerOf(request.principal!), limit) };
    },
  );

  app.get<{ Params: { conversation_id: string } }>(
    '/conversations/:conversation_id',
    { onRequest: read, schema: doc('A conversation with every message and vote', { params: conversationParams }) },
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

  app.get(
    '/statistics',
    { onRequest: read, schema: doc('Conversations, messages, errors, circuit breaker and quota use') },
    async (request) =>
      readStatistics(services.db, ownerOf(request.principal!), {
        breaker: services.breaker,
        provider: services.governance.provider,
        key: services.governance.keyWaitingGovernor(request.principal!),
      }),
  );

  app.post<{ Querystring: { days?: string } }>(
    '/admin/cleanup',
    { onRequest: admin, schema: doc('Delete ended conversations older than `days` (default 30)', { querystring: daysQuery }) },
    async (request) => {
      const days = Number(request.query.days ?? 30);
      return { cleanup_results: await conversations.queries.cleanup(days), days_threshold: days };
    },
  );

  app.get<{ Querystring: { days?: string; format?: 'json' } }>(
    '/admin/export',
    { onRequest: admin, schema: doc('Every conversation of the last `days` (default 7), as JSON', { querystring: daysQuery }) },
    async (request) => {
      const days = Number(request.query.days ?? 7);
      const exported = await conversations.queries.export(days);
      return { format: 'json', days, exported_at: new Date().toISOString(), count: exported.length, conversations: exported };
    },
  );
};
