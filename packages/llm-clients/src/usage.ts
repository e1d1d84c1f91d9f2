import type { Usage } from '@tollgate/core';
import { MalformedResponseError } from './errors.js';

/**
 * A provider's usage report as token counts, or the `MalformedResponseError` to raise when
 * it is missing or any count is not a finite number of at least 0. Bad numbers are the
 * provider's fault, not the caller's, and must never reach a governor's settle.
 */
export function readUsage(
  usage: { readonly [K in keyof Usage]?: unknown } | undefined,
  where: { readonly provider: string; readonly requestId?: string | undefined },
): Usage | MalformedResponseError {
  const { promptTokens, completionTokens, totalTokens } = usage ?? {};
  const counts = [promptTokens, completionTokens, totalTokens];
  if (counts.every((n) => typeof n === 'number' && n >= 0 && Number.isFinite(n))) {
    return { promptTokens, completionTokens, totalTokens } as Usage;
  }
  const what = usage ? `usage that is not token counts: ${JSON.stringify(usage).slice(0, 200)}` : 'no usage';
  return new MalformedResponseError(`the reply has ${what}`, {
    provider: where.provider,
    ...(where.requestId ? { requestId: where.requestId } : {}),
  });
}
