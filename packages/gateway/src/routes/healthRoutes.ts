// GET /health (anyone) and GET /health/detailed (admin).
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import { checkHealth, HEALTH_COMPONENTS, PROVIDER_HEALTH_COMPONENTS } from '../health/checkHealth.js';
import type { GatewayServices } from '../services.js';
import { errorResponse } from './schemas.js';

const component = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
    responseTimeMs: { type: 'number' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** The health routes, as a fastify plugin over the gateway's services. */
export const healthRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: the gateway answers',
        tags: ['health'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/health/detailed',
    {
      onRequest: requirePermission(services, 'admin'),
      schema: {
        summary: 'Every component with its status, response time and details; overall the worst',
        tags: ['health'],
        security: [{ bearer: [] }],
        response: {
          '2xx': {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
              components: {
                type: 'object',
                required: [...HEALTH_COMPONENTS],
                properties: Object.fromEntries(
                  [...HEALTH_COMPONENTS, ...PROVIDER_HEALTH_COMPONENTS].map((n) => [n, component]),
                ),
              },
            },
          },
          401: errorResponse,
          403: errorResponse,
          503: {
            description: 'Some component is unhealthy (same shape as 2xx)',
            type: 'object',
            additionalProperties: true,
          },
        },
      },
    },
    async (_request, reply) => {
      const health = await checkHealth(services);
      return reply.code(health.status === 'unhealthy' ? 503 : 200).send(health);
    },
  );
};
