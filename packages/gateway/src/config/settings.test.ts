import { describe, expect, it } from 'vitest';
import { configFailure as failure } from '../test-support/configFailure.js';
import { integerIn, oneOfSetting, sectionSetting } from './settings.js';

describe('sectionSetting', () => {
  it('reads set fields through their check under their full name, and leaves unset ones undefined', () => {
    const seen: string[] = [];
    const section = sectionSetting('upstream', { a: 3, b: undefined }, ['a', 'b', 'c']);
    const check = (name: string, value: unknown) => {
      seen.push(name);
      return integerIn(0, 5)(name, value);
    };
    expect(section.optional('a', check)).toBe(3);
    expect(section.optional('b', check)).toBeUndefined();
    expect(section.optional('c', check)).toBeUndefined();
    expect(seen).toEqual(['upstream.a']);
    expect(section.fields).toEqual({ a: 3, b: undefined });
  });

  it('names fields with the separator given, in its own errors and in those of the checks', () => {
    expect(failure(() => sectionSetting('FILE', { port: 1, nope: 2 }, ['port'], ':')).setting).toBe(
      'FILE:nope',
    );
    const section = sectionSetting('FILE', { port: 70_000 }, ['port'], ':');
    const error = failure(() => section.optional('port', integerIn(0, 65_535)));
    expect(error.setting).toBe('FILE:port');
    expect(error.expected).toBe('an integer from 0 to 65535');
  });

  it('refuses a section that is not an object', () => {
    for (const value of [null, [], 'x', 3])
      expect(failure(() => sectionSetting('ipBlock', value, [])).expected).toBe('an object');
  });
});

describe('oneOfSetting', () => {
  it('accepts only the choices, given exactly', () => {
    expect(oneOfSetting('t', 'fetch', ['agent', 'fetch'])).toBe('fetch');
    const error = failure(() => oneOfSetting('upstream.transport', 'Fetch', ['agent', 'fetch']));
    expect(error.setting).toBe('upstream.transport');
    expect(error.message).toBe(
      "Invalid gateway setting `upstream.transport`: expected 'agent' or 'fetch', got \"Fetch\"",
    );
  });
});
