import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidLimitsError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from './parseResourceLimits.js';
import { resolveRates } from './ResourceLimits.js';
import { envName, resourceLimitsFromEnv } from './resourceLimitsFromEnv.js';
import { resourceLimitsFromFile } from './resourceLimitsFromFile.js';

function invalid(input: unknown): InvalidLimitsError {
  try {
    parseResourceLimits(input);
  } catch (error) {
    if (InvalidLimitsError.is(error)) return error;
    throw error;
  }
  throw new Error('expected InvalidLimitsError');
}

describe('parseResourceLimits', () => {
  it('applies defaults and accepts camelCase and snake_case names', () => {
    const limits = parseResourceLimits({
      max_concurrent_tasks: 5,
      maxTokensPerMinute: 10_000,
      token_burst_size: 20_000,
    });
    expect(limits).toMatchObject({
      maxConcurrentTasks: 5,
      maxTokensPerMinute: 10_000,
      tokenBurstSize: 20_000,
      enforceLimits: true,
      rejectOnLimit: false,
      resourceWaitTimeoutSeconds: 300,
      algorithm: 'token-bucket',
      timeScale: 1,
    });
    expect(Object.isFrozen(limits)).toBe(true);
    expect(parseResourceLimits(limits)).toBe(limits);
  });

  it.each([
    [{ maxTokensPerMinute: -5 }, 'maxTokensPerMinute', 'a finite number greater than 0', -5],
    [
      { maxRequestsPerMinute: Number.NaN },
      'maxRequestsPerMinute',
      'a finite number greater than 0',
      Number.NaN,
    ],
    [{ maxConcurrentTasks: 2.5 }, 'maxConcurrentTasks', 'an integer greater than 0', 2.5],
    [{ maxTokensPerMinute: 10, tokenBurstSize: 0.5 }, 'tokenBurstSize', 'a finite number of at least 1', 0.5],
    [{ enforceLimits: 'yes' }, 'enforceLimits', 'a boolean', 'yes'],
    [{ algorithm: 'leaky' }, 'algorithm', "'token-bucket' or 'sliding-window'", 'leaky'],
    [{ timeScale: 0 }, 'timeScale', 'a finite number greater than 0', 0],
  ])('rejects %j naming the field, expectation and value', (input, field, expected, received) => {
    const error = invalid(input);
    expect(error.field).toBe(field);
    expect(error.expected).toBe(expected);
    expect(error.received).toEqual(received);
  });

  it('rejects unknown keys and suggests the right name', () => {
    const error = invalid({ maxTokensPerMinutes: 5, MAX_TOKENS_PER_HOUR: 1 });
    expect(error.issues.map((i) => i.field)).toEqual(['maxTokensPerMinutes', 'MAX_TOKENS_PER_HOUR']);
    expect(error.issues[1]!.expected).toContain('did you mean `maxTokensPerHour`');
  });

  it('rejects a burst without its limit, duplicates and zero windows in custom rates', () => {
    expect(invalid({ tokenBurstSize: 100 }).expected).toBe('set only together with `maxTokensPerMinute`');
    expect(invalid({ maxTokensPerMinute: 1, max_tokens_per_minute: 2 }).expected).toMatch(/given once/);
    const zero = invalid({ rates: [{ resource: 'agentStarts', limit: 7, windowMs: 0 }] });
    expect(zero.field).toBe('rates.0.windowMs');
    expect(zero.received).toBe(0);
    const burst = invalid({
      rates: [{ resource: 'x', limit: 7, windowMs: 10, burst: 9, algorithm: 'sliding-window' }],
    });
    expect(burst.field).toBe('rates.0.burst');
    expect(
      invalid({ rates: [{ name: 'tokensPerMinute', resource: 'x', limit: 1, windowMs: 1 }] }).field,
    ).toBe('rates.0.name');
    expect(invalid([1]).field).toBe('(limits)');
  });

  it('resolves rates: built-ins with algorithms and bursts, custom ones, time-scaled', () => {
    const rates = resolveRates(
      parseResourceLimits({
        maxRequestsPerMinute: 7,
        maxTokensPerMinute: 1000,
        tokenBurstSize: 1500,
        algorithms: { requestsPerMinute: 'sliding-window' },
        rates: [{ resource: 'agentStarts', limit: 7, windowMs: 60_000 }],
        timeScale: 60,
      }),
    );
    expect(rates).toEqual([
      {
        name: 'requestsPerMinute',
        resource: 'requests',
        limit: 7,
        windowMs: 1000,
        burst: 7,
        algorithm: 'sliding-window',
      },
      {
        name: 'tokensPerMinute',
        resource: 'tokens',
        limit: 1000,
        windowMs: 1000,
        burst: 1500,
        algorithm: 'token-bucket',
      },
      {
        name: 'agentStartsPer60000ms',
        resource: 'agentStarts',
        limit: 7,
        windowMs: 1000,
        burst: 7,
        algorithm: 'token-bucket',
      },
    ]);
  });
});

describe('resourceLimitsFromEnv', () => {
  it('reads prefixed snake-case variables with types', () => {
    const limits = resourceLimitsFromEnv(
      {
        APP_MAX_CONCURRENT_TASKS: '4',
        APP_REJECT_ON_LIMIT: 'yes',
        APP_ALGORITHM: 'sliding-window',
        APP_RATES: '[{"resource":"agentStarts","limit":7,"windowMs":60000}]',
        OTHER: 'ignored',
      },
      'APP_',
    );
    expect(limits.maxConcurrentTasks).toBe(4);
    expect(limits.rejectOnLimit).toBe(true);
    expect(limits.algorithm).toBe('sliding-window');
    expect(limits.rates).toHaveLength(1);
    expect(envName('maxTokensPerMinute')).toBe('TOLLGATE_MAX_TOKENS_PER_MINUTE');
  });

  it('names the variable at fault', () => {
    expect(() => resourceLimitsFromEnv({ TOLLGATE_MAX_TOKENS_PER_MINUTE: 'lots' })).toThrow(
      /Expected `TOLLGATE_MAX_TOKENS_PER_MINUTE` to be a number, got 'lots'/,
    );
    expect(() => resourceLimitsFromEnv({ TOLLGATE_MAX_TOKENS_PER_MINUTE: '-1' })).toThrow(
      /`TOLLGATE_MAX_TOKENS_PER_MINUTE` to be a finite number greater than 0, got -1/,
    );
    expect(() => resourceLimitsFromEnv({ TOLLGATE_ENFORCE_LIMITS: 'maybe' })).toThrow(
      /TOLLGATE_ENFORCE_LIMITS/,
    );
  });

  it('merges over a base', () => {
    const limits = resourceLimitsFromEnv({ TOLLGATE_MAX_CONCURRENT_TASKS: '9' }, 'TOLLGATE_', {
      maxRequestsPerMinute: 7,
    });
    expect(limits).toMatchObject({ maxConcurrentTasks: 9, maxRequestsPerMinute: 7 });
  });
});

describe('resourceLimitsFromFile', () => {
  it('reads JSON and YAML, whole or under resource_limits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'limits-'));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ maxRequestsPerMinute: 7 }));
    await writeFile(
      join(dir, 'b.yaml'),
      'resource_limits:\n  max_concurrent_tasks: 3\n  reject_on_limit: true\n',
    );
    await writeFile(join(dir, 'c.yml'), 'max_tokens_per_minute: [oops\n');
    expect((await resourceLimitsFromFile(join(dir, 'a.json'))).maxRequestsPerMinute).toBe(7);
    expect(await resourceLimitsFromFile(join(dir, 'b.yaml'))).toMatchObject({
      maxConcurrentTasks: 3,
      rejectOnLimit: true,
    });
    await expect(resourceLimitsFromFile(join(dir, 'c.yml'))).rejects.toThrow(/readable JSON or YAML/);
  });
});
