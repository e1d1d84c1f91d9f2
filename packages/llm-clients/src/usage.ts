// readUsage: a provider's usage report checked into token counts, or a MalformedResponseError.
import type { Usage } from '@tollgate/core';
import { MalformedResponseError } from './errors.js';

/** The most tokens any count of one reply's usage may be: more is a broken report. */
export const MAX_USAGE_TOKENS = 10_000_000;

const isCount = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_USAGE_TOKENS;

/** Cache counts, where reported, are whole counts that together fit in the prompt they are part of. */
function isCachePart(read: unknown, write: unknown, promptTokens: number): boolean {
  if (read === undefined && write === undefined) return true;
  const r = read ?? 0;
  const w = write ?? 0;
  return isCount(r) && isCount(w) && r + w <= promptTokens;
}

/**
 * A provider's usage report as token counts, or the `MalformedResponseError` to raise when
 * it is missing, any count is not a whole number from 0 to `MAX_USAGE_TOKENS`, or the
 * completion count is above `maxCompletionTokens` (the `max_tokens` sent), or cache counts
 * (`cacheReadTokens`, `cacheWriteTokens`, where reported) are not whole counts within the prompt. Bad numbers are
 * the provider's fault, not the caller's, and must never reach a governor's settle. The
 * counts are returned as reported: a total that disagrees with prompt + completion is for
 * the caller to judge (the governed client charges prompt + completion).
 */
export function readUsage(
  usage: { readonly [K in keyof Usage]?: unknown } | undefined,
  where: { readonly provider: string; readonly requestId?: string | undefined },
  maxCompletionTokens?: number,
): Usage | MalformedResponseError {
  const { promptTokens, completionTokens, totalTokens, cacheReadTokens, cacheWriteTokens } = usage ?? {};
  if (
    isCount(promptTokens) &&
    isCount(completionTokens) &&
    isCount(totalTokens) &&
    isCachePart(cacheReadTokens, cacheWriteTokens, promptTokens)
  ) {
    if (maxCompletionTokens === undefined || completionTokens <= maxCompletionTokens) {
      return {
        promptTokens,
        completionTokens,
        totalTokens,
        ...(cacheReadTokens !== undefined ? { cacheReadTokens: cacheReadTokens as number } : {}),
        ...(cacheWriteTokens !== undefined ? { cacheWriteTokens: cacheWriteTokens as number } : {}),
      };
    }
  }
  const what = usage ? `usage that is not token counts: ${JSON.stringify(usage).slice(0, 200)}` : 'no usage';
  const bound = maxCompletionTokens === undefined ? '' : ` (max_tokens ${maxCompletionTokens})`;
  return new MalformedResponseError(`the reply has ${what}${bound}`, {
    provider: where.provider,
    ...(where.requestId ? { requestId: where.requestId } : {}),
  });
}
