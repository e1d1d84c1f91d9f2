import { describe, expect, it } from 'vitest';
import {
  anyQuotaExhaustion,
  geminiQuotaExhaustion,
  openAIQuotaExhaustion,
  type QuotaExhaustionDetector,
} from './quotaExhaustion.js';

const geminiBody = (quotaId: string, retryDelay?: string) => ({
  error: {
    code: 429,
    message: 'Quota exceeded',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId }] },
      ...(retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] : []),
    ],
  },
});

describe('quota exhaustion detectors', () => {
  it.each(['insufficient_quota', 'enforced_spend_limit_reached', 'billing_hard_limit_reached'])(
    "OpenAI's %s, as a body or as its error object, is a used-up quota",
    (code) => {
      const error = { message: 'You exceeded your current quota', type: code, code };
      expect(openAIQuotaExhaustion({ error }, 0)).toEqual({ message: 'You exceeded your current quota' });
      expect(openAIQuotaExhaustion(error, 0)).toEqual({ message: 'You exceeded your current quota' });
    },
  );

  it('an ordinary rate limit is not', () => {
    const limit = { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
    const detect = anyQuotaExhaustion(openAIQuotaExhaustion, geminiQuotaExhaustion);
    expect(detect(limit, 0)).toBeUndefined();
    expect(detect(geminiBody('GenerateRequestsPerMinutePerProjectPerModel', '26s'), 0)).toBeUndefined();
    expect(detect(undefined, 0)).toBeUndefined();
    expect(detect('<html>busy</html>', 0)).toBeUndefined();
  });

  it("Gemini's per-day quota is, with its reset from retryDelay, also inside a list", () => {
    const body = geminiBody('GenerateRequestsPerDayPerProjectPerModel-FreeTier', '26s');
    expect(geminiQuotaExhaustion(body, 1_000)).toEqual({ message: 'Quota exceeded', resetsAt: 27_000 });
    expect(geminiQuotaExhaustion([body], 1_000)?.resetsAt).toBe(27_000);
    expect(geminiQuotaExhaustion(geminiBody('InputTokensPerDay'), 0)).toEqual({ message: 'Quota exceeded' });
  });

  it('a provider plugs in its own detector', () => {
    const anthropicSpend: QuotaExhaustionDetector = (body) =>
      (body as { error?: { type?: string } })?.error?.type === 'spend_limit'
        ? { message: 'spend limit' }
        : undefined;
    const detect = anyQuotaExhaustion(openAIQuotaExhaustion, anthropicSpend);
    expect(detect({ error: { type: 'spend_limit' } }, 0)).toEqual({ message: 'spend limit' });
  });
});
