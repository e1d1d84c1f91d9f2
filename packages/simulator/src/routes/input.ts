// Reading a model call's input, for every protocol: the body within its size, and the output cap.
import type { IncomingMessage } from 'node:http';
import type { SimulatorContext } from '../context.js';
import { HttpError } from '../HttpError.js';
import { readBody } from '../request.js';

/**
 * Reads the body (at most `maxBodyBytes`, else 413) and parses it with `parse`; a refusal
 * of either is counted in `stats.badRequests` and rethrown.
 */
export async function readRequest<T>(
  ctx: SimulatorContext,
  req: IncomingMessage,
  parse: (raw: Buffer) => T,
): Promise<T> {
  try {
    return parse(await readBody(req, ctx.maxBodyBytes));
  } catch (error) {
    if (error instanceof HttpError) ctx.stats.badRequests++;
    throw error;
  }
}

/**
 * The output tokens a call may use: `asked`, or `defaultMaxTokens` when it asks none; a
 * 400 about `param` (counted as a bad request) unless an integer from 1 to `maxOutputTokens`.
 */
export function maxOutputTokens(ctx: SimulatorContext, asked: unknown, param: string): number {
  const maxOut = asked ?? ctx.defaultMaxTokens;
  const limit = ctx.maxOutputTokens;
  if (typeof maxOut !== 'number' || !Number.isInteger(maxOut) || maxOut < 1 || maxOut > limit) {
    ctx.stats.badRequests++;
    const message = `Invalid '${param}': expected an integer from 1 to ${limit}, got ${JSON.stringify(asked)}.`;
    throw HttpError.invalid(param, message);
  }
  return maxOut;
}
