// The fastify application: plugins for docs, CORS, errors and each group of routes.
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { conversationRoutes } from './conversations/routes.js';
import { adminRoutes } from './routes/adminRoutes.js';
import { dashboardRoutes } from './routes/dashboardRoutes.js';
import { installErrorHandlers } from './routes/errorHandler.js';
import { healthRoutes } from './routes/healthRoutes.js';
import { installJsonParser } from './routes/jsonBody.js';
import { metricsRoutes } from './routes/metricsRoutes.js';
import { openaiRoutes } from './routes/openaiRoutes.js';
import { providerRoutes } from './routes/providerRoutes.js';
import type { GatewayServices } from './services.js';

/** How the HTTP layer is set up. */
export interface GatewayAppOptions {
  readonly bodyLimitBytes: number;
  /** Origins allowed by CORS; `undefined` sends no CORS headers. */
  readonly corsOrigins?: readonly string[] | true | undefined;
  /** Proxies whose X-Forwarded-For is believed; none: the socket address is the client's. */
  readonly trustedProxies?: readonly string[] | undefined;
  /** Serve OpenAPI and Swagger UI at /docs. */
  readonly docs: boolean;
  readonly version: string;
}

const EXPOSED = [
  'retry-after',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

/**
 * Builds the gateway's fastify app over `services` (not listening yet). Each group of
 * routes is a plugin taking the services, so further groups (conversations, metrics) are
 * added the same way: `app.register(plugin, services)`.
 */
export async function buildGatewayApp(
  services: GatewayServices,
  options: GatewayAppOptions,
): Promise<FastifyInstance> {
  const proxies = options.trustedProxies ?? [];
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    trustProxy: proxies.length > 0 ? [...proxies] : false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
  });
  installErrorHandlers(app, services.logger);
  installJsonParser(app);
  if (options.corsOrigins !== undefined) {
    await app.register(cors, {
      origin: options.corsOrigins === true ? true : [...options.corsOrigins],
      exposedHeaders: EXPOSED,
      allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-goog-api-key', 'anthropic-version'],
      methods: ['GET', 'POST', 'DELETE'],
    });
  }
  if (options.docs) await registerDocs(app, options.version);
  await app.register(healthRoutes, services);
  await app.register(openaiRoutes, services);
  await app.register(providerRoutes, services);
  await app.register(adminRoutes, services);
  await app.register(metricsRoutes, services);
  await app.register(dashboardRoutes, services);
  await app.register(conversationRoutes, services);
  return app;
}

async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tollgate gateway',
        description:
          'An OpenAI-compatible API that admits every request against per-key and provider limits before forwarding it.',
        version,
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          basic: { type: 'http', scheme: 'basic' },
          anthropicKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          geminiKey: { type: 'apiKey', in: 'header', name: 'x-goog-api-key' },
        },
      },
    },
  });
  // Swagger UI's files are served from the package itself: the page needs no network.
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
