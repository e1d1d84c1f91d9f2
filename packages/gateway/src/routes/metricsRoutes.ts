// GET /metrics (admin): the governors' metrics in the Prometheus text format, from @tollgate/telemetry.
import {
  instrument,
  PROMETHEUS_CONTENT_TYPE,
  PrometheusRegistry,
  renderExposition,
  type Telemetry,
} from '@tollgate/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import type { GatewayServices } from '../services.js';
import { errorResponse } from './schemas.js';

/**
 * `/metrics`, as a fastify plugin over the gateway's services: every governor (the provider's,
 * and each key's from its first request on) is instrumented into one registry, scraped with
 * an admin credential (`authorization` in Prometheus' scrape config).
 */
export const metricsRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const registry = new PrometheusRegistry();
  const telemetries: Telemetry[] = [];
  const stop = services.governance.watchGovernors((governor) =>
    telemetries.push(instrument(governor, { registry })),
  );
  app.addHook('onClose', async () => {
    stop();
    for (const telemetry of telemetries.splice(0)) telemetry.dispose();
  });
  app.get(
    '/metrics',
    {
      onRequest: requirePermission(services, 'admin'),
      schema: {
        summary: "The governors' limits, queues, admissions, rejections and cooldowns, for Prometheus",
        description:
          'Prometheus text exposition format (0.0.4). One `governor` label per governor: `provider` (the quota shared by every client) and `key:NAME` for each key that has made a request.',
        tags: ['observability'],
        security: [{ bearer: [] }],
        response: {
          200: {
            description: 'The metrics, in the Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          401: errorResponse,
          403: errorResponse,
        },
      },
    },
    async (_request, reply) =>
      reply
        .type(PROMETHEUS_CONTENT_TYPE)
        .header('cache-control', 'no-store')
        .send(renderExposition(registry.collect())),
  );
};
