// Admission of one request against its key's quota, with the faults drawn before it.
import type { IncomingMessage } from 'node:http';
import type { SimulatorContext } from './context.js';
import { faultBeforeAdmission, retryHeaders } from './faults.js';
import { HttpError } from './HttpError.js';
import type { KeyQuota, RateLimitHeaders } from './quota.js';

/** What a route asks to admit: the key and the tokens charged (prompt + max output). */
export interface AdmissionRequest {
  readonly key: string;
  readonly charged: number;
}

/** An admitted request: its quota, the simulator-clock time of admission and its number. */
export interface Admission {
  readonly quota: KeyQuota;
  /** Simulator-clock ms at admission. */
  readonly now: number;
  /** The request's number, unique in this simulator. */
  readonly sequence: number;
  /** The key's rate-limit headers just after admission. */
  readonly headers: RateLimitHeaders;
}

/**
 * Admits a request as a real provider does, in order: the key's budget (429
 * `insufficient_quota`), the faults that strike before admission, a request larger than the
 * token window (400), then the windows (429 with retry headers). Records the admission in the
 * stats. Throws the refusals as `HttpError`s; undefined when a fault reset the connection.
 */
export function admit(
  ctx: SimulatorContext,
  req: IncomingMessage,
  { key, charged }: AdmissionRequest,
): Admission | undefined {
  const quota = ctx.quotaFor(key);
  const now = ctx.clock.now();
  checkBudget(ctx, quota);
  if (faultBeforeAdmission(ctx, req, () => quota.headers(now))) return undefined;
  checkWindows(ctx, quota, charged, now);
  quota.admit(charged, now);
  record(ctx, quota, charged, now);
  return { quota, now, sequence: ctx.nextSequence(), headers: quota.headers(now) };
}

function checkBudget(ctx: SimulatorContext, quota: KeyQuota): void {
  if (!quota.exhausted) return;
  ctx.stats.quotaExhausted++;
  const message = 'You exceeded your current quota, please check your plan and billing details.';
  throw new HttpError(429, 'insufficient_quota', 'insufficient_quota', message);
}

function checkWindows(ctx: SimulatorContext, quota: KeyQuota, charged: number, now: number): void {
  if (quota.tokenLimit !== undefined && charged > quota.tokenLimit) {
    ctx.stats.badRequests++;
    const message = `Request too large: ${charged} tokens requested, limit ${quota.tokenLimit} per window.`;
    throw new HttpError(400, 'invalid_request_error', 'request_too_large', message);
  }
  const refusal = quota.check(charged, now);
  if (!refusal) return;
  ctx.stats.rateLimited++;
  const wait = Math.ceil(refusal.retryAfterMs);
  const message = `Rate limit reached for ${refusal.kind}: limit ${refusal.limit}. Please try again in ${wait}ms.`;
  const headers = { ...retryHeaders(refusal.retryAfterMs), ...quota.headers(now) };
  throw new HttpError(429, refusal.kind, 'rate_limit_exceeded', message, headers);
}

function record(ctx: SimulatorContext, quota: KeyQuota, charged: number, now: number): void {
  const { stats } = ctx;
  stats.admitted++;
  stats.firstAdmissionMs ??= now;
  stats.lastAdmissionMs = now;
  stats.tokens.charged += charged;
  const seen = quota.maxSeen();
  stats.maxRequestsInWindow = Math.max(stats.maxRequestsInWindow, seen.requests);
  stats.maxTokensInWindow = Math.max(stats.maxTokensInWindow, seen.tokens);
}
