// What a governed call reserves, settles and refunds on each governor: its costs are built here only.
import type { Usage } from '@tollgate/core';
import type { ActualUsage, ResourceCost } from '@tollgate/limits';

/** What a call is reserved by: its prompt as counted and the most output tokens it may produce. */
export interface CallSize {
  readonly promptTokens: number;
  readonly maxTokens: number;
}

/**
 * What an attempt reserves on every governor before the provider is called: one request,
 * prompt + max output tokens, and the two apart for input and output token limits
 * (a governor ignores a resource none of its limits names).
 */
export function reservationOf(size: CallSize): ResourceCost {
  return {
    requests: 1,
    tokens: size.promptTokens + size.maxTokens,
    inputTokens: size.promptTokens,
    outputTokens: size.maxTokens,
  };
}

/**
 * What a governor is settled with after a reply: what was used (`'usage'`), or what a
 * provider that charges at admission counted (`'admission'`: the prompt plus `maxTokens`).
 * Input tokens leave out prompt tokens read from the provider's cache, which input limits
 * do not count.
 */
export function chargeOf(usage: Usage, maxTokens: number, charging: 'admission' | 'usage'): ActualUsage {
  const inputTokens = Math.max(0, usage.promptTokens - (usage.cacheReadTokens ?? 0));
  if (charging === 'admission') {
    return { tokens: usage.promptTokens + maxTokens, inputTokens, outputTokens: maxTokens };
  }
  return { tokens: usage.totalTokens, inputTokens, outputTokens: usage.completionTokens };
}

/** A call the provider did not count: everything given back. */
export const REFUND: ActualUsage = Object.freeze({ requests: 0, tokens: 0, inputTokens: 0, outputTokens: 0 });

/** The call was answered but what it used is unknown: the reservation stands as estimated. */
export function keptOf(size: CallSize): ActualUsage {
  return {
    tokens: size.promptTokens + size.maxTokens,
    inputTokens: size.promptTokens,
    outputTokens: size.maxTokens,
  };
}
