// Fault injection: the seeded draws of errors, resets, foreign 429s and slow replies.
import type { IncomingMessage } from 'node:http';
import type { SimulatorContext } from './context.js';
import { HttpError } from './HttpError.js';
import { SIMULATOR_DEFAULTS } from './options.js';
import type { RateLimitHeaders } from './quota.js';

/** `retry-after` (whole seconds, at least 1) and `retry-after-ms` for a wait of `ms`. */
export function retryHeaders(ms: number): Record<string, string> {
  return {
    'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
    'retry-after-ms': String(Math.ceil(ms)),
  };
}

/**
 * Draws the faults that strike before admission, so they cost the caller no quota: a
 * foreign 429, a 500 or a 503 is thrown as an `HttpError`; a reset destroys the connection
 * and returns true (nothing more may be sent).
 */
export function faultBeforeAdmission(
  ctx: SimulatorContext,
  req: IncomingMessage,
  quotaHeaders: () => RateLimitHeaders,
): boolean {
  const { faults, random, stats } = ctx;
  if (random.chance(faults.foreign429 ?? 0)) {
    stats.faults.foreign429++;
    const ms = faults.foreign429RetryAfterMs ?? SIMULATOR_DEFAULTS.foreign429RetryAfterMs;
    const message = 'The server is overloaded (not your quota).';
    const headers = { ...retryHeaders(ms), ...quotaHeaders() };
    throw new HttpError(429, 'requests', 'rate_limit_exceeded', message, headers);
  }
  if (random.chance(faults.error500 ?? 0)) {
    stats.faults.error500++;
    const message = 'The server had an error while processing your request.';
    throw new HttpError(500, 'server_error', null, message);
  }
  if (random.chance(faults.error503 ?? 0)) {
    stats.faults.error503++;
    throw new HttpError(503, 'server_error', null, 'The engine is currently overloaded.');
  }
  if (random.chance(faults.reset ?? 0)) {
    stats.faults.reset++;
    req.socket.destroy();
    return true;
  }
  return false;
}

/** The extra delay of a slow reply: `slowMs` when the `slow` fault strikes, else 0. */
export function slowFaultMs(ctx: SimulatorContext): number {
  if (!ctx.random.chance(ctx.faults.slow ?? 0)) return 0;
  ctx.stats.faults.slow++;
  return ctx.faults.slowMs ?? SIMULATOR_DEFAULTS.slowMs;
}
