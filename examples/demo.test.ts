import { describe, expect, it } from 'vitest';
import { demoOptionsFrom, PRESETS } from './demo.js';

describe('the demo command line', () => {
  it.each([
    ['light', 10],
    ['medium', 100],
    ['heavy', 500],
  ] as const)('--preset %s runs %i agents', (preset, agents) => {
    expect(demoOptionsFrom(['--preset', preset], {})).toMatchObject({ agents, rpm: PRESETS[preset].rpm });
  });

  it('lets flags override a preset, and takes the preset from TOLLGATE_DEMO_PRESET', () => {
    expect(demoOptionsFrom(['--preset', 'heavy', '--rpm', '120'], {})).toMatchObject({
      agents: 500,
      rpm: 120,
    });
    expect(demoOptionsFrom([], { TOLLGATE_DEMO_PRESET: 'medium' })).toMatchObject({ agents: 100 });
  });

  it('refuses an unknown preset and bad numbers, naming the flag', () => {
    expect(() => demoOptionsFrom(['--preset', 'huge'], {})).toThrow(
      /--preset: expected light, medium, heavy, got huge/,
    );
    expect(() => demoOptionsFrom(['--agents', '0'], {})).toThrow(/--agents: expected a number above 0/);
    expect(() => demoOptionsFrom(['--window-ms', 'abc'], {})).toThrow(
      /--window-ms: expected a number above 0/,
    );
  });

  it('keeps the defaults without flags', () => {
    expect(demoOptionsFrom([], {})).toEqual({ out: '.tollgate/demo', responses: false, stream: false });
  });
});
