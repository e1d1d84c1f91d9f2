// What a route of the simulator is: a path, a method, how the caller's key is read and a handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorContext } from '../context.js';
import type { HttpError } from '../HttpError.js';

/** One request as a route's handler sees it, its caller already authenticated. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The caller's API key ('' on an open route). */
  readonly key: string;
}

/**
 * A route of the simulator. A provider protocol is a route (or a few) and a renderer: the
 * route parses its request, then reuses `admit` (quota and faults), `composeReply` and the
 * delivery helpers, and renders the reply in its own shapes.
 */
export interface Route {
  readonly method: 'GET' | 'POST';
  /** Whether this route serves `pathname`. */
  matches(pathname: string): boolean;
  /** Served without an API key (health, stats). @default false */
  readonly open?: boolean;
  /** Counted in `stats.requests` (model calls), valid or not. @default false */
  readonly counted?: boolean;
  /** Reads the caller's API key from the request. @default the `Authorization: Bearer` key */
  readonly apiKey?: (req: IncomingMessage, url: URL) => string | undefined;
  /** Answers an error in the protocol's shape. @default OpenAI's `{ error }` body */
  readonly sendError?: (res: ServerResponse, error: HttpError) => void;
  handle(ctx: SimulatorContext, exchange: Exchange): Promise<void> | void;
}

/** The key of an `Authorization: Bearer KEY` header, as OpenAI clients send it. */
export function bearerKey(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
}
