import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedCount, MAX_EXACT_CHARS, MAX_RUN_CHARS } from './boundedCount.js';

/** The longest run of one character class in `piece`, in code points, as `boundedCount` classes them. */
function longestRun(piece: string): number {
  const runs = piece.match(/[\p{L}\p{M}]+|\s+|[^\s\p{L}\p{M}\p{N}]+/gu) ?? [];
  return Math.max(0, ...runs.map((r) => [...r].length));
}

/** An encoder stand-in that records what it is given and counts one token per 4 characters. */
function recorder() {
  const pieces: string[] = [];
  const encode = (piece: string) => {
    pieces.push(piece);
    return Math.ceil(piece.length / 4);
  };
  return { pieces, encode };
}

describe('boundedCount', () => {
  it('hands text without long runs to the encoder whole', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        fc.pre(longestRun(text) <= MAX_RUN_CHARS && text.length > 0);
        const { pieces, encode } = recorder();
        expect(boundedCount(text, encode)).toBe(Math.ceil(text.length / 4));
        expect(pieces).toEqual([text]);
      }),
    );
  });

  it('never hands the encoder a run longer than the cap, and loses or duplicates no character', () => {
    const part = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 50 }),
      fc
        .tuple(fc.constantFrom('x', ' ', '!', '字', '😀', 'é'), fc.integer({ min: 1, max: 600 }))
        .map(([c, n]) => c.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const text = parts.join('');
        const { pieces, encode } = recorder();
        boundedCount(text, encode);
        expect(pieces.join('')).toBe(text);
        for (const piece of pieces) expect(longestRun(piece)).toBeLessThanOrEqual(MAX_RUN_CHARS);
      }),
    );
  });

  it('counts text past the exact size from a bounded sample, scaled up', () => {
    const text = 'abcd '.repeat(1_000_000); // 5 MB
    const { pieces, encode } = recorder();
    const count = boundedCount(text, encode);
    const handed = pieces.reduce((sum, p) => sum + p.length, 0);
    expect(handed).toBeLessThanOrEqual(16 * 2_049);
    expect(count).toBeGreaterThanOrEqual(text.length / 4);
    expect(count).toBeLessThanOrEqual((text.length / 4) * 1.01);
    expect(MAX_EXACT_CHARS).toBe(262_144);
  });
});
