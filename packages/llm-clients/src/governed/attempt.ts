// One attempt of a governed call: acquire on every governor, call through a transport, settle or refund.
import type { Usage } from '@tollgate/core';
import { MalformedResponseError } from '../errors.js';
import type { RateLimitInfo } from '../types.js';
import { AttemptLeases } from './AttemptLeases.js';
import type { ClientContext } from './context.js';
import type { CallSize } from './costs.js';
import type { Transport } from './transports.js';
import { checkedUsage } from './usageCheck.js';

/** How one attempt ended. */
export type AttemptOutcome<T> =
  | {
      readonly ok: true;
      readonly value: T;
      /** The usage charged: the reply's, checked (a disagreeing total corrected). */
      readonly usage: Usage;
      readonly rateLimit: RateLimitInfo | undefined;
    }
  | {
      readonly ok: false;
      readonly error: unknown;
      /** Part of the reply reached the caller: the call cannot be retried. */
      readonly final: boolean;
      /** What was charged for what the failed attempt produced, if anything. */
      readonly usage: Usage | undefined;
    };

/**
 * Runs one attempt: acquires the call's reservation on every governor in order (the
 * provider's held until its reply starts), calls `admitted`, sends through `transport`, then
 * settles every lease with the checked usage. A failure is refunded as `refund` rules (a
 * malformed reply keeps the reservation), unless part of the reply reached the caller: that
 * is charged as produced. Every lease is released, whatever happens.
 */
export async function runAttempt<T>(
  ctx: ClientContext,
  size: CallSize,
  transport: Transport<T>,
  signal: AbortSignal | undefined,
  admitted: () => void,
): Promise<AttemptOutcome<T>> {
  let leases: AttemptLeases | undefined;
  try {
    leases = await AttemptLeases.acquire(ctx, size, signal);
    admitted();
    leases.sending();
    const sent = await transport.send(signal, (ms) => leases?.endProviderHold(ms));
    // A whole reply: the provider counted the call at least its processing time ago.
    leases.endProviderHold(sent.rateLimit?.processingMs);
    const usage = checkedUsage(ctx, sent.usage, size.maxTokens);
    if (MalformedResponseError.is(usage)) throw usage;
    leases.settle(usage);
    return { ok: true, value: sent.value, usage, rateLimit: sent.rateLimit };
  } catch (error) {
    return {
      ok: false,
      error,
      final: transport.delivered,
      usage: leases && charge(ctx, leases, size, transport, error),
    };
  } finally {
    leases?.release();
  }
}

/** Settles a failed attempt's leases; returns the usage charged for what it produced, if any. */
function charge(
  ctx: ClientContext,
  leases: AttemptLeases,
  size: CallSize,
  transport: Transport<unknown>,
  error: unknown,
): Usage | undefined {
  const partial = transport.partialUsage();
  if (partial === undefined) {
    leases.refund(error);
    return undefined;
  }
  const usage = checkedUsage(ctx, partial, size.maxTokens);
  if (MalformedResponseError.is(usage)) {
    leases.keep();
    return undefined;
  }
  leases.settle(usage);
  return usage;
}
