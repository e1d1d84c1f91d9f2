// Every route of the conversation service, as one fastify plugin over the gateway's services.
import type { FastifyPluginAsync } from 'fastify';
import type { GatewayServices } from '../services.js';
import { chatRoutes } from './chatRoutes.js';
import { queryRoutes } from './queryRoutes.js';
import { statisticsRoutes } from './statisticsRoutes.js';
import { wsRoute } from './wsRoute.js';

/** POST /chat, POST /stream/{id}, WS /ws/{id}, the /conversations routes, /statistics and the admin ones. */
export const conversationRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  await app.register(chatRoutes, services);
  await app.register(queryRoutes, services);
  await app.register(statisticsRoutes, services);
  await app.register(wsRoute, services);
};
