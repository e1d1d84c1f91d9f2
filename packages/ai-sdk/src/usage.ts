// A model's usage report as token counts a governor can be settled with.
import type { Usage } from '@tollgate/core';
import { MAX_USAGE_TOKENS } from '@tollgate/llm-clients';
import type { ModelUsage } from './types.js';

/** What one call used, in tokens. */
export interface CallUsage {
  /** Every prompt token, cache reads and writes included. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Prompt tokens read from the provider's cache (0 when not reported). */
  readonly cacheReadTokens: number;
  /** Prompt tokens written to the provider's cache (0 when not reported). */
  readonly cacheWriteTokens: number;
}

const isCount = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_USAGE_TOKENS;

/**
 * The usage a model reported, with `fallback` for a count it left out or reported as
 * something other than a whole number from 0 to `MAX_USAGE_TOKENS`. `complete` says
 * whether both totals came from the report.
 */
export function readModelUsage(
  usage: ModelUsage | undefined,
  fallback: { readonly inputTokens: number; readonly outputTokens: number },
): { readonly usage: CallUsage; readonly complete: boolean } {
  const input = usage?.inputTokens?.total;
  const output = usage?.outputTokens?.total;
  const inputTokens = isCount(input) ? input : fallback.inputTokens;
  const cacheRead = usage?.inputTokens?.cacheRead;
  const cacheWrite = usage?.inputTokens?.cacheWrite;
  return {
    usage: {
      inputTokens,
      outputTokens: isCount(output) ? output : fallback.outputTokens,
      // A cache share above the whole input is a broken report: it cannot be more than all of it.
      cacheReadTokens: isCount(cacheRead) ? Math.min(cacheRead, inputTokens) : 0,
      cacheWriteTokens: isCount(cacheWrite) ? Math.min(cacheWrite, inputTokens) : 0,
    },
    complete: isCount(input) && isCount(output),
  };
}

/** The same usage in Tollgate's `Usage` shape (for events and totals). */
export function toUsage(usage: CallUsage): Usage {
  return {
    promptTokens: usage.inputTokens,
    completionTokens: usage.outputTokens,
    totalTokens: usage.inputTokens + usage.outputTokens,
  };
}
