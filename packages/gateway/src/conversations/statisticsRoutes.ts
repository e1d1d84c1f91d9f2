// GET /statistics (own conversations, or all for admins), POST /admin/cleanup and GET /admin/export (admin).
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import type { GatewayServices } from '../services.js';
import { doc, ownerOf } from './queryRoutes.js';
import { daysQuery } from './schemas.js';
import { readStatistics } from './statistics.js';

/** The statistics and admin routes of the conversation service. */
export const statisticsRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { conversations } = services;
  const read = requirePermission(services, 'read');
  const admin = requirePermission(services, 'admin');

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
    {
      onRequest: admin,
      schema: doc('Delete ended conversations older than `days` (default 30)', { querystring: daysQuery }),
    },
    async (request) => {
      const days = Number(request.query.days ?? 30);
      return { cleanup_results: await conversations.queries.cleanup(days), days_threshold: days };
    },
  );

  app.get<{ Querystring: { days?: string; format?: 'json' } }>(
    '/admin/export',
    {
      onRequest: admin,
      schema: doc('Every conversation of the last `days` (default 7), as JSON', { querystring: daysQuery }),
    },
    async (request) => {
      const days = Number(request.query.days ?? 7);
      const exported = await conversations.queries.export(days);
      return {
        format: 'json',
        days,
        exported_at: new Date().toISOString(),
        count: exported.length,
        conversations: exported,
      };
    },
  );
};
