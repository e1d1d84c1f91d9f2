import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/errors.js';
import { checkOptions, numberIn, oneOf, optionRules } from './options.js';

interface Opts {
  size?: number;
  share?: number;
  mode?: string;
  name?: string;
}
const rules = {
  size: optionRules.positiveInt,
  share: optionRules.fraction,
  mode: oneOf('fast', 'slow'),
  name: optionRules.string,
};

describe('checkOptions', () => {
  it('passes valid options and missing ones through, and gives {} for none', () => {
    const opts: Opts = { size: 3, share: 1, mode: 'fast' };
    expect(checkOptions('Thing', opts, rules)).toBe(opts);
    expect(checkOptions<Opts>('Thing', undefined, rules)).toEqual({});
  });

  it('names every option at fault, the first as the argument', () => {
    let error: unknown;
    try {
      checkOptions<Opts>('Thing', { size: 0, share: Number.NaN, mode: 'medium', name: 'ok' }, rules);
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.is(error)).toBe(true);
    const e = error as InvalidArgumentError;
    expect(e.argument).toBe('Thing.size');
    expect(e.issues.map((i) => i.option)).toEqual(['Thing.size', 'Thing.share', 'Thing.mode']);
    expect(e.message).toContain("Expected `Thing.mode` to be 'fast' or 'slow', got 'medium' (string)");
    expect(e.message).toContain('Expected `Thing.share` to be a number in (0, 1], got NaN (number)');
  });

  it('rejects something that is not an object, and NaN or Infinity where numbers must be finite', () => {
    expect(() => checkOptions('Thing', 5 as unknown as Opts, rules)).toThrow(
      /`Thing` to be an options object/,
    );
    expect(() => checkOptions('T', { n: Number.POSITIVE_INFINITY }, { n: optionRules.nonNegative })).toThrow(
      InvalidArgumentError,
    );
    expect(() => checkOptions('T', { n: 11 }, { n: numberIn(0, 10) })).toThrow(/from 0 to 10, got 11/);
  });
});
