// The JSON body parser: fastify's own, behind a nesting-depth limit that keeps deep bodies from overflowing the stack.
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';

/** How deeply a request body's arrays and objects may nest. */
export const MAX_JSON_DEPTH = 128;

/** The deepest nesting of arrays and objects in `text` (strings skipped), stopping past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Replaces the `application/json` parser with fastify's default one behind a depth check:
 * a body nested deeper than {@link MAX_JSON_DEPTH} is a 400, not a stack overflow later.
 */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(
        new HttpError(
          400,
          'invalid_json',
          `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
        ),
        undefined,
      );
      return;
    }
    parse(request, text, done);
  });
}
