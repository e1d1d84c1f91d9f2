import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidLimitsError, type Logger } from '@tollgate/core';
import { describe, expect, it, vi } from 'vitest';
import { parseResourceLimits } from './parseResourceLimits.js';
import { MAX_DURATION_MS, resolveRates } from './ResourceLimits.js';
import { envName, resourceLimitsFromEnv } from './resourceLimitsFromEnv.js';
import { resourceLimitsFromFile } from './resourceLimitsFromFile.js';

const yaml = vi.hoisted(() => ({ loaded: false }));
vi.mock('yaml', async (importOriginal) => {
  yaml.loaded = true;
  return importOriginal();
});

function invalid(
  input: unknown,
  parse: (input: unknown) => unknown = parseResourceLimits,
): InvalidLimitsError {
  try {
    parse(input);
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

  it('passes its own result through, and re-validates any copy of it (no marker to forge or show)', () => {
    const limits = parseResourceLimits({ maxConcurrentTasks: 2 });
    expect(parseResourceLimits(limits)).toBe(limits);
    expect(Object.keys(limits)).not.toContain('__parsed');
    expect(JSON.stringify(limits)).not.toMatch(/parsed/);
    expect(invalid({ ...limits, maxConcurrentTasks: -3 }).field).toBe('maxConcurrentTasks');
    expect(invalid({ maxConcurrentTasks: -3, __parsed: true }).field).toBe('maxConcurrentTasks');
    const withRates = parseResourceLimits({ rates: [{ resource: 'r', limit: 1, windowMs: 10 }] });
    expect(Object.isFrozen(withRates.rates) && Object.isFrozen(withRates.rates?.[0])).toBe(true);
  });

  it('states the durations it supports: windows, task timeouts and finite waits up to 366 days', () => {
    const day = 86_400;
    expect(MAX_DURATION_MS).toBe(366 * day * 1000);
    expect(
      parseResourceLimits({ taskTimeoutSeconds: 30 * day, resourceWaitTimeoutSeconds: 366 * day }),
    ).toMatchObject({ taskTimeoutSeconds: 30 * day, resourceWaitTimeoutSeconds: 366 * day });
    expect(parseResourceLimits({ resourceWaitTimeoutSeconds: Infinity }).resourceWaitTimeoutSeconds).toBe(
      Infinity,
    );
    const task = invalid({ taskTimeoutSeconds: 367 * day });
    expect([task.field, task.expected]).toEqual([
      'taskTimeoutSeconds',
      'a number greater than 0 and at most 31622400 (366 days)',
    ]);
    expect(invalid({ taskTimeoutSeconds: Infinity }).field).toBe('taskTimeoutSeconds');
    expect(invalid({ resourceWaitTimeoutSeconds: 400 * day }).expected).toBe(
      'a number from 0 to 31622400 (366 days), or Infinity to wait without bound',
    );
    const window = invalid({ rates: [{ resource: 'reports', limit: 1, windowMs: MAX_DURATION_MS + 1 }] });
    expect([window.field, window.received]).toEqual(['rates.0.windowMs', MAX_DURATION_MS + 1]);
    expect(
      parseResourceLimits({ rates: [{ resource: 'r', limit: 1, windowMs: MAX_DURATION_MS }] }).rates,
    ).toHaveLength(1);
    const scaled = invalid({ maxRequestsPerDay: 10, timeScale: 0.001 });
    expect(scaled.field).toBe('timeScale');
    expect(scaled.expected).toMatch(/`requestsPerDay` would last 86400000000 ms/);
    expect(invalid({ windowPaddingMs: 120_000 }).expected).toBe('a number from 0 to 60000');
  });

  it('rejects a built-in rate whose capacity is below one unit: it could never admit a request', () => {
    const half = invalid({ maxRequestsPerMinute: 0.5 });
    expect(half.field).toBe('maxRequestsPerMinute');
    expect(half.expected).toBe(
      'at least 1, or given with `requestBurstSize` of at least 1 (a rate whose capacity is below 1 request can never admit one)',
    );
    expect(half.received).toBe(0.5);
    expect(invalid({ maxTokensPerHour: 0.25 }).expected).toMatch(/below 1 token can never admit one/);
    expect(invalid({ maxToolCallsPerMinute: 0.5, algorithm: 'sliding-window' }).expected).toMatch(
      /below 1 tool call/,
    );
    // A slow rate with a whole bucket is usable: one request every two minutes.
    expect(
      resolveRates(parseResourceLimits({ maxRequestsPerMinute: 0.5, requestBurstSize: 1 }))[0],
    ).toMatchObject({ limit: 0.5, burst: 1 });
  });

  it('rejects options that would be ignored: a burst on a sliding-window built-in, reject mode in monitor mode', () => {
    const burst = invalid({ maxTokensPerMinute: 1000, tokenBurstSize: 2000, algorithm: 'sliding-window' });
    expect([burst.field, burst.received]).toEqual(['tokenBurstSize', 2000]);
    expect(burst.expected).toMatch(/unset while `tokensPerMinute` is a 'sliding-window' rate/);
    expect(
      invalid({
        maxRequestsPerMinute: 10,
        requestBurstSize: 20,
        algorithms: { requestsPerMinute: 'sliding-window' },
      }).field,
    ).toBe('requestBurstSize');
    const monitor = invalid({ rejectOnLimit: true, enforceLimits: false });
    expect([monitor.field, monitor.received]).toEqual(['rejectOnLimit', true]);
    expect(monitor.message).toMatch(/monitor mode never blocks, so it never rejects/);
    expect(parseResourceLimits({ rejectOnLimit: false, enforceLimits: false }).enforceLimits).toBe(false);
  });

  it('suggests the algorithm a misspelt one meant', () => {
    expect(invalid({ algorithm: 'slidingwindow' }).expected).toBe(
      "'token-bucket' or 'sliding-window' (did you mean 'sliding-window'?)",
    );
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

describe('resourceLimitsFromEnv, hostile and mistyped', () => {
  const fromEnv =
    (env: Record<string, string>, base: object = {}, logger?: Logger) =>
    () =>
      resourceLimitsFromEnv(env, 'TOLLGATE_PROVIDER_', base, logger ? { logger } : {});
  const fails = (env: Record<string, string>, base: object = {}) => invalid(env, () => fromEnv(env, base)());

  it('validates the merged result over an already parsed base', () => {
    const base = parseResourceLimits({ maxRequestsPerMinute: 60 });
    const negative = fails({ TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '-1' }, base);
    expect([negative.field, negative.expected, negative.received]).toEqual([
      'TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE',
      'a finite number greater than 0',
      -1,
    ]);
    const algorithm = fails({ TOLLGATE_PROVIDER_ALGORITHM: 'slidingwindow' }, base);
    expect(algorithm.field).toBe('TOLLGATE_PROVIDER_ALGORITHM');
    expect(algorithm.expected).toMatch(/did you mean 'sliding-window'/);
    const tasks = invalid({}, () =>
      resourceLimitsFromEnv({ TOLLGATE_MAX_CONCURRENT_TASKS: '-3' }, 'TOLLGATE_', base),
    );
    expect([tasks.field, tasks.received]).toEqual(['TOLLGATE_MAX_CONCURRENT_TASKS', -3]);
    expect(tasks.message).not.toMatch(/parsed/);
    // Combinations across layers: a sliding window from env makes the base's burst meaningless.
    const burst = fails(
      { TOLLGATE_PROVIDER_ALGORITHM: 'sliding-window' },
      { maxTokensPerMinute: 1000, tokenBurstSize: 2000 },
    );
    expect(burst.field).toBe('tokenBurstSize');
  });

  it('rejects a TOLLGATE_RATES that is not an array with a typed error naming the variable', () => {
    const rates = fails({ TOLLGATE_PROVIDER_RATES: '{"resource":"agentStarts","limit":7,"windowMs":60000}' });
    expect(rates.field).toBe('TOLLGATE_PROVIDER_RATES');
    expect(rates.expected).toMatch(/^an array of/);
  });

  it('names the variable a misspelt one most likely meant', () => {
    const typo = fails({ TOLLGATE_PROVIDER_MAX_REQUEST_PER_MINUTE: '10' });
    expect(typo.field).toBe('TOLLGATE_PROVIDER_MAX_REQUEST_PER_MINUTE');
    expect(typo.expected).toBe(
      'a known variable (did you mean `TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE`?)',
    );
    expect(fails({ TOLLGATE_PROVIDER_MAX_TOKEN_PER_MIN: '10' }).expected).toMatch(
      /TOLLGATE_PROVIDER_MAX_TOKENS_PER_MINUTE/,
    );
  });

  it('lists other unknown variables under the prefix once through the logger, and skips ignored prefixes', () => {
    const warn = vi.fn();
    const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() };
    const limits = resourceLimitsFromEnv(
      {
        TOLLGATE_MAX_CONCURRENT_TASKS: '2',
        TOLLGATE_DEMO_AGENTS: '50',
        TOLLGATE_LOG_FORMAT: 'json',
        TOLLGATE_PROVIDER_MAX_REQUESTS_PER_MINUTE: '7',
        OTHER_MAX_REQUEST_PER_MINUTE: '1',
      },
      'TOLLGATE_',
      {},
      { logger, ignorePrefixes: ['TOLLGATE_PROVIDER_'] },
    );
    expect(limits.maxConcurrentTasks).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toEqual({
      prefix: 'TOLLGATE_',
      variables: ['TOLLGATE_DEMO_AGENTS', 'TOLLGATE_LOG_FORMAT'],
    });
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
    expect(yaml.loaded).toBe(false); // the YAML parser loads only for a YAML file
    expect(await resourceLimitsFromFile(join(dir, 'b.yaml'))).toMatchObject({
      maxConcurrentTasks: 3,
      rejectOnLimit: true,
    });
    expect(yaml.loaded).toBe(true);
    await expect(resourceLimitsFromFile(join(dir, 'c.yml'))).rejects.toThrow(/readable JSON or YAML/);
  });
});
