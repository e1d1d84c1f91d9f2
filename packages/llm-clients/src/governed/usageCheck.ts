// A reply's usage as the governed client charges it: checked, corrected, or counted from the text.
import type { Logger, TokenCounter, Usage } from '@tollgate/core';
import { MalformedResponseError } from '../errors.js';
import { readUsage } from '../usage.js';

/**
 * A reply's usage as charged, or a `MalformedResponseError` when it is not three whole
 * counts within `MAX_USAGE_TOKENS` or its completion count is above `maxTokens`. A total
 * that disagrees with prompt + completion is replaced by prompt + completion (logged).
 */
export function checkedUsage(
  where: { readonly provider: string; readonly logger: Logger },
  usage: Usage | undefined,
  maxTokens: number,
): Usage | MalformedResponseError {
  const read = readUsage(usage, { provider: where.provider }, maxTokens);
  if (MalformedResponseError.is(read)) return read;
  const totalTokens = read.promptTokens + read.completionTokens;
  if (read.totalTokens === totalTokens) return usage!;
  where.logger.warn('usage total disagrees with prompt + completion: charged prompt + completion', {
    provider: where.provider,
    promptTokens: read.promptTokens,
    completionTokens: read.completionTokens,
    totalTokens: read.totalTokens,
  });
  return { ...usage!, ...read, totalTokens };
}

/**
 * Usage of a streamed reply that reported none: the prompt as estimated, the text as
 * counted, at most `maxTokens` (the provider stopped there, whatever a counter says).
 */
export function countedUsage(
  counter: TokenCounter,
  text: string,
  size: { readonly promptTokens: number; readonly maxTokens: number; readonly model: string },
): Usage {
  const completionTokens = Math.min(size.maxTokens, counter.countText(text, { model: size.model }));
  return {
    promptTokens: size.promptTokens,
    completionTokens,
    totalTokens: size.promptTokens + completionTokens,
  };
}
