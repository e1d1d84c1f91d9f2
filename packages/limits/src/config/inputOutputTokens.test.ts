import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidLimitsError, ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { parseResourceLimits } from './parseResourceLimits.js';
import { resolveRates } from './ResourceLimits.js';
import { resourceLimitsFromEnv } from './resourceLimitsFromEnv.js';
import { resourceLimitsFromFile } from './resourceLimitsFromFile.js';

function issueOf(input: unknown): { field: string; expected: string } {
  try {
    parseResourceLimits(input);
  } catch (error) {
    if (InvalidLimitsError.is(error)) return error.issues[0]!;
    throw error;
  }
  throw new Error('expected InvalidLimitsError');
}

describe('input and output tokens per minute', () => {
  it('resolve to rates on the inputTokens and outputTokens resources, with bursts and algorithms', () => {
    const rates = resolveRates(
      parseResourceLimits({
        max_input_tokens_per_minute: 30_000,
        maxOutputTokensPerMinute: 8_000,
        outputTokenBurstSize: 4_000,
        algorithms: { inputTokensPerMinute: 'sliding-window' },
        timeScale: 60,
      }),
    );
    expect(rates).toEqual([
      {
        name: 'inputTokensPerMinute',
        resource: 'inputTokens',
        limit: 30_000,
        windowMs: 1000,
        burst: 30_000,
        algorithm: 'sliding-window',
      },
      {
        name: 'outputTokensPerMinute',
        resource: 'outputTokens',
        limit: 8_000,
        windowMs: 1000,
        burst: 4_000,
        algorithm: 'token-bucket',
      },
    ]);
  });

  it('are validated like the other rates', () => {
    expect(issueOf({ maxInputTokensPerMinute: 0 }).field).toBe('maxInputTokensPerMinute');
    expect(issueOf({ inputTokenBurstSize: 10 }).expected).toBe(
      'set only together with `maxInputTokensPerMinute`',
    );
    expect(
      issueOf({ maxOutputTokensPerMinute: 100, outputTokenBurstSize: 50, algorithm: 'sliding-window' })
        .expected,
    ).toMatch(/unset while `outputTokensPerMinute` is a 'sliding-window' rate/);
    expect(issueOf({ maxOutputTokensPerMinute: 0.5 }).expected).toMatch(
      /below 1 output token can never admit one/,
    );
    expect(issueOf({ maxInputTokenPerMinute: 5 }).expected).toMatch(/did you mean `maxInputTokensPerMinute`/);
  });

  it('are read from env and from files', async () => {
    const env = resourceLimitsFromEnv({
      TOLLGATE_MAX_INPUT_TOKENS_PER_MINUTE: '40000',
      TOLLGATE_MAX_OUTPUT_TOKENS_PER_MINUTE: '8000',
      TOLLGATE_OUTPUT_TOKEN_BURST_SIZE: '2000',
    });
    expect([env.maxInputTokensPerMinute, env.maxOutputTokensPerMinute, env.outputTokenBurstSize]).toEqual([
      40_000, 8_000, 2_000,
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'limits-'));
    const file = join(dir, 'limits.yaml');
    await writeFile(
      file,
      'resource_limits:\n  max_input_tokens_per_minute: 1000\n  input_token_burst_size: 500\n',
    );
    const fromFile = await resourceLimitsFromFile(file);
    expect([fromFile.maxInputTokensPerMinute, fromFile.inputTokenBurstSize]).toEqual([1000, 500]);
  });

  it('reserve a cost in input and output tokens apart and settle each with its real use', async () => {
    const governor = new ResourceGovernor(
      { maxInputTokensPerMinute: 1000, maxOutputTokensPerMinute: 600 },
      { clock: new ManualClock() },
    );
    const lease = await governor.acquire({ requests: 1, inputTokens: 300, outputTokens: 500 });
    expect(governor.checkResourceAvailability().remaining).toEqual({
      inputTokensPerMinute: 700,
      outputTokensPerMinute: 100,
    });
    // Output is the binding limit: 200 more output tokens do not fit although input does.
    expect(governor.checkResourceAvailability({ inputTokens: 10, outputTokens: 200 }).available).toBe(false);
    lease.settle({ inputTokens: 250, outputTokens: 120 });
    expect(governor.checkResourceAvailability().remaining).toEqual({
      inputTokensPerMinute: 750,
      outputTokensPerMinute: 480,
    });
  });
});
