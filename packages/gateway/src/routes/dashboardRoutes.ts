// GET /dashboard/ (admin): the live dashboard of @tollgate/dashboard over the gateway's governors.
import { dashboardHandler } from '@tollgate/dashboard';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import { HttpError } from '../errors.js';
import type { GatewayServices } from '../services.js';
import { errorResponse } from './schemas.js';

/** Where the dashboard is mounted; its page refers to its files relatively, below this. */
export const DASHBOARD_PATH = '/dashboard/';

const CHALLENGE = 'Basic realm="Tollgate dashboard", charset="UTF-8"';

/**
 * Browsers cannot send a bearer token with a page or an EventSource, but they do send Basic
 * credentials once asked: `Authorization: Basic base64(ANY_NAME:KEY)` is read as `Bearer KEY`.
 */
function bearerFromBasic(request: FastifyRequest): void {
  const match = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!match) return;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  request.headers.authorization = `Bearer ${colon < 0 ? '' : decoded.slice(colon + 1)}`;
}

/** The admin check, answering a failed authentication with a Basic challenge so browsers ask for the key. */
function adminWithChallenge(services: GatewayServices) {
  const check = requirePermission(services, 'admin');
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    bearerFromBasic(request);
    try {
      await check(request, reply);
    } catch (error) {
      if (!HttpError.is(error) || error.status !== 401) throw error;
      throw new HttpError(error.status, error.reason, error.message, {
        type: error.type,
        headers: { ...error.headers, 'www-authenticate': CHALLENGE },
      });
    }
  };
}

/**
 * `/dashboard/`, as a fastify plugin over the gateway's services: the provider's governor and
 * every key's (from its first request on), live, over Server-Sent Events. Admin only: a
 * bearer admin key, or in a browser the admin key as the password of the Basic prompt.
 */
export const dashboardRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const dashboard = dashboardHandler(services.governance.provider, { title: 'Tollgate gateway' });
  const stop = services.governance.watchGovernors((governor) => dashboard.follow(governor));
  // Open event streams end before the server closes, or closing would wait for them.
  app.addHook('preClose', async () => {
    stop();
    dashboard.close();
  });
  const onRequest = adminWithChallenge(services);
  const errors = { 401: errorResponse, 403: errorResponse, 404: errorResponse };
  app.get(
    '/dashboard',
    {
      onRequest,
      schema: {
        summary: 'Redirects to /dashboard/',
        tags: ['observability'],
        security: [{ bearer: [] }, { basic: [] }],
        response: { 302: { description: 'To /dashboard/', type: 'null' }, ...errors },
      },
    },
    async (_request, reply) => reply.redirect(DASHBOARD_PATH, 302),
  );
  app.get<{ Params: { '*': string } }>(
    `${DASHBOARD_PATH}*`,
    {
      onRequest,
      schema: {
        summary: 'The live dashboard: its page, files, `state.json` and `events` (Server-Sent Events)',
        tags: ['observability'],
        security: [{ bearer: [] }, { basic: [] }],
        response: {
          200: { description: 'The page, a file, the state (JSON) or the event stream' },
          ...errors,
        },
      },
    },
    (request, reply) => {
      reply.hijack();
      dashboard.handle(request.raw, reply.raw, `/${request.params['*']}`);
    },
  );
};
