// The simulator's own routes: health, stats and the model list.
import { sendJson } from '../render/json.js';
import type { Route } from './Route.js';

const at = (path: string) => (pathname: string) => pathname === path;

/** `GET /health`: `{ ok: true }`, without a key. */
export const healthRoute: Route = {
  method: 'GET',
  matches: at('/health'),
  open: true,
  handle: (_ctx, { res }) => sendJson(res, 200, { ok: true }),
};

/** `GET /stats`: the counters, without a key. */
export const statsRoute: Route = {
  method: 'GET',
  matches: at('/stats'),
  open: true,
  handle: (ctx, { res }) => sendJson(res, 200, ctx.snapshot()),
};

/** `GET /v1/models`: the configured models, in OpenAI's list shape. */
export const modelsRoute: Route = {
  method: 'GET',
  matches: at('/v1/models'),
  handle: (ctx, { res }) =>
    sendJson(res, 200, {
      object: 'list',
      data: ctx.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'tollgate-simulator' })),
    }),
};
