// Dispatch of a request to its route: authentication, unknown routes and errors rendered in the route's protocol.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorContext } from '../context.js';
import { HttpError } from '../HttpError.js';
import { sendOpenAIError } from '../render/openai.js';
import { bearerKey, type Route } from './Route.js';

/**
 * Serves one request with the first route whose path matches: a request of another method
 * on that path, or of no known path, is a 404 once its caller is authenticated. Every
 * failure is answered (a 500 for an unexpected one), or the connection is destroyed when
 * the headers are already sent.
 */
export async function dispatch(
  ctx: SimulatorContext,
  routes: readonly Route[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = routes.find((r) => r.matches(url.pathname));
  try {
    const served = route?.method === req.method ? route : undefined;
    const key = served?.open ? '' : authenticate(ctx, req, url, route);
    if (!served) {
      const message = `Unknown route ${req.method} ${url.pathname}`;
      throw new HttpError(404, 'invalid_request_error', 'not_found', message);
    }
    await served.handle(ctx, { req, res, url, key });
  } catch (error) {
    const send = route?.sendError ?? sendOpenAIError;
    if (res.headersSent) res.destroy();
    else if (error instanceof HttpError) send(res, error);
    else send(res, new HttpError(500, 'server_error', null, `simulator failure: ${String(error)}`));
  }
}

function authenticate(ctx: SimulatorContext, req: IncomingMessage, url: URL, route?: Route): string {
  if (route?.counted) ctx.stats.requests++;
  const key = (route?.apiKey ?? bearerKey)(req, url);
  if (!key || (ctx.apiKeys.size > 0 && !ctx.apiKeys.has(key))) {
    ctx.stats.unauthorized++;
    throw new HttpError(401, 'invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.');
  }
  return key;
}
