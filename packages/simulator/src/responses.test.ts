import { TiktokenCounter } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { Random } from './Random.js';
import { generateText } from './responses.js';

describe('generateText', () => {
  it('reports the exact token count of the text it makes, never over max_tokens', () => {
    for (const defaultEncoding of ['o200k_base', 'cl100k_base'] as const) {
      const counter = new TiktokenCounter({ defaultEncoding });
      const random = new Random(7);
      for (let i = 0; i < 200; i++) {
        const target = random.int(1, 150);
        const max = random.int(1, 150);
        const { text, tokens, truncated } = generateText(random, counter, target, max);
        expect(tokens).toBe(counter.countText(text));
        expect(tokens).toBeLessThanOrEqual(max);
        if (!truncated) expect(tokens).toBeGreaterThanOrEqual(Math.min(target, max));
      }
    }
  });
});
