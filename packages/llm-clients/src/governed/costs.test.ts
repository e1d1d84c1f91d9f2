import { describe, expect, it } from 'vitest';
import { chargeOf, keptOf, REFUND, reservationOf } from './costs.js';

const size = { promptTokens: 300, maxTokens: 100 };

describe('call costs', () => {
  it('a call reserves one request, prompt + max tokens, and the prompt and max tokens apart', () => {
    expect(reservationOf(size)).toEqual({ requests: 1, tokens: 400, inputTokens: 300, outputTokens: 100 });
  });

  it('settles with what was used; input tokens leave out what was read from the cache', () => {
    const usage = { promptTokens: 300, completionTokens: 40, totalTokens: 340, cacheReadTokens: 250 };
    expect(chargeOf(usage, 100, 'usage')).toEqual({ tokens: 340, inputTokens: 50, outputTokens: 40 });
    const uncached = { promptTokens: 300, completionTokens: 40, totalTokens: 340, cacheWriteTokens: 300 };
    expect(chargeOf(uncached, 100, 'usage')).toEqual({ tokens: 340, inputTokens: 300, outputTokens: 40 });
  });

  it('a provider that charges at admission is settled with the prompt and all the max tokens', () => {
    const usage = { promptTokens: 290, completionTokens: 40, totalTokens: 330, cacheReadTokens: 90 };
    expect(chargeOf(usage, 100, 'admission')).toEqual({ tokens: 390, inputTokens: 200, outputTokens: 100 });
  });

  it('a refund gives every resource back; a kept reservation settles at the reservation', () => {
    expect(REFUND).toEqual({ requests: 0, tokens: 0, inputTokens: 0, outputTokens: 0 });
    const { requests: _, ...reserved } = reservationOf(size);
    expect(keptOf(size)).toEqual(reserved);
  });
});
