import { describe, expect, it } from 'vitest';
import { addUsage, EMPTY_USAGE } from './types.js';

describe('addUsage', () => {
  it('sums the three counts, and adds no cache counts when neither usage reports them', () => {
    const sum = addUsage(
      { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
    );
    expect(sum).toEqual({ promptTokens: 11, completionTokens: 7, totalTokens: 18 });
    expect('cacheReadTokens' in sum || 'cacheWriteTokens' in sum).toBe(false);
  });

  it('sums cache counts where either usage reports them, a missing one counting 0', () => {
    const cached = { promptTokens: 100, completionTokens: 5, totalTokens: 105, cacheReadTokens: 80 };
    const written = { promptTokens: 50, completionTokens: 5, totalTokens: 55, cacheWriteTokens: 40 };
    expect(addUsage(addUsage(EMPTY_USAGE, cached), written)).toEqual({
      promptTokens: 150,
      completionTokens: 10,
      totalTokens: 160,
      cacheReadTokens: 80,
      cacheWriteTokens: 40,
    });
    expect(addUsage(cached, cached).cacheReadTokens).toBe(160);
  });
});
