import { describe, expect, it } from 'vitest';
import { parseProcessingMs, parseRateLimitHeaders, processingAgoMs } from './headers.js';

describe('parseProcessingMs (openai-processing-ms)', () => {
  it('reads a plain non-negative number of ms, from fetch Headers or a record', () => {
    expect(parseProcessingMs(new Headers({ 'openai-processing-ms': '183' }))).toBe(183);
    expect(parseProcessingMs({ 'openai-processing-ms': ' 12.5 ' })).toBe(12.5);
    expect(parseProcessingMs({ 'openai-processing-ms': '0' })).toBe(0);
    expect(parseRateLimitHeaders({ 'openai-processing-ms': '40' })).toEqual({ processingMs: 40 });
  });

  it('refuses hostile values: garbage, signs, exponents, Infinity, blanks, absent', () => {
    for (const bad of [
      'abc',
      '-5',
      '+5',
      '1e308',
      'Infinity',
      'NaN',
      '',
      ' ',
      '12ms',
      '0x10',
      '1.',
      '.5',
      '1'.repeat(25),
    ])
      expect(parseProcessingMs({ 'openai-processing-ms': bad }), bad).toBeUndefined();
    expect(parseProcessingMs({})).toBeUndefined();
    expect(parseProcessingMs(undefined)).toBeUndefined();
  });

  it('keeps a huge but plain value for the lease to clamp', () => {
    expect(parseProcessingMs({ 'openai-processing-ms': '99999999999999999999' })).toBe(1e20);
  });
});

describe('processingAgoMs', () => {
  it('never counts a call from before it was sent', () => {
    expect(processingAgoMs(40, 100)).toBe(40);
    expect(processingAgoMs(1e12, 100)).toBe(100);
    expect(processingAgoMs(Number.POSITIVE_INFINITY, 7)).toBe(7);
    expect(processingAgoMs(-5, 100)).toBe(0);
    expect(processingAgoMs(10, -1)).toBe(0);
  });

  it('an unknown time ends the hold now', () => {
    expect(processingAgoMs(undefined, 100)).toBeUndefined();
    expect(processingAgoMs(Number.NaN, 100)).toBeUndefined();
  });
});
