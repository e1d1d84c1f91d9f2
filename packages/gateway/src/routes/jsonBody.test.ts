// jsonDepth: nesting counted outside strings, escapes honoured, the scan stopping past its limit.
import { describe, expect, it } from 'vitest';
import { jsonDepth } from './jsonBody.js';

describe('jsonDepth', () => {
  it('counts the deepest nesting of arrays and objects', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth(JSON.stringify(JSON.parse(`${'['.repeat(300)}${']'.repeat(300)}`)))).toBe(300);
  });

  it('skips brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonDepth('["\\"[[[", "\\\\", [1]]')).toBe(2);
  });

  it('stops once past the limit', () => {
    expect(jsonDepth('['.repeat(10_000), 5)).toBe(6);
  });
});
