import { HeuristicTokenCounter, InvalidArgumentError, type LogFields, ManualClock } from '@tollgate/core';
import { ResourceGovernor, type ResourceLimits } from '@tollgate/limits';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import { type Script, ScriptedClient } from '../scripted/ScriptedClient.js';
import { scriptedGoverned } from '../test-support/scriptedGoverned.js';
import type { ChatRequest } from '../types.js';
import { GovernedClient } from './GovernedClient.js';
import type { GovernedClientOptions } from './options.js';

const _counter = new HeuristicTokenCounter();
const request: ChatRequest = { messages: [{ role: 'user', content: 'hello there' }], maxTokens: 100 };

function setup(script: Script, provider: ResourceLimits = {}, options: Partial<GovernedClientOptions> = {}) {
  const clock = new ManualClock();
  const agentGovernor = new ResourceGovernor(
    { maxTokensPerMinute: 100_000, algorithm: 'sliding-window' },
    { clock, name: 'agent' },
  );
  const providerGovernor = new ResourceGovernor(
    {
      maxRequestsPerMinute: 100,
      maxTokensPerMinute: 100_000,
      algorithm: 'sliding-window',
      resourceWaitTimeoutSeconds: 3,
      ...provider,
    },
    { clock, name: 'provider' },
  );
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const logger = {
    debug() {},
    info() {},
    warn: (message: string, fields?: LogFields) => warnings.push({ message, fields }),
    error() {},
  };
  const { inner, client, events } = scriptedGoverned(script, clock, [agentGovernor, providerGovernor], {
    logger,
    ...options,
  });
  /** When each call reached the provider. */
  const sent: number[] = [];
  const original = inner.chat.bind(inner);
  inner.chat = (req, opts) => {
    sent.push(clock.now());
    return original(req, opts);
  };
  return { clock, agent: agentGovernor, provider: providerGovernor, inner, client, events, warnings, sent };
}

async function settle<T>(clock: ManualClock, promise: Promise<T>, stepMs = 10, maxSteps = 10_000) {
  let done = false;
  const tracked = promise.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  tracked.finally(() => {
    done = true;
  });
  for (let i = 0; i < maxSteps && !done; i++) await clock.advanceAsync(stepMs);
  return tracked;
}

const limited = (retryAfterMs: number) =>
  new ProviderRateLimitError('slow down', { provider: 'scripted', retryAfterMs });

describe('GovernedClient options', () => {
  const inner = new ScriptedClient({ script: [] });
  const governor = new ResourceGovernor({ maxRequestsPerMinute: 10 });

  it('rejects options out of range, naming each', () => {
    const make = (options: Partial<GovernedClientOptions>) => () =>
      new GovernedClient(inner, { governors: [governor], ...options });
    expect(
      make({ governors: [], defaultMaxTokens: -3 } as unknown as Partial<GovernedClientOptions>),
    ).toThrow(/GovernedClient\.governors.*GovernedClient\.defaultMaxTokens/s);
    expect(make({ retry: { maxAttempts: 0 } })).toThrow(/GovernedClient\.retry\.maxAttempts/);
    expect(make({ retry: { baseDelayMs: -5, maxDelayMs: Number.NaN } })).toThrow(
      /retry\.baseDelayMs.*retry\.maxDelayMs/s,
    );
    expect(make({ chatTransport: 'fast' as never })).toThrow(/chatTransport/);
    expect(make({ maxRetryAfterMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => new GovernedClient(inner, {} as GovernedClientOptions)).toThrow(/governors/);
  });
});

describe('GovernedClient against hostile provider replies', () => {
  it.each([
    ['strings', { completionTokens: 'five', totalTokens: 'fifteen' }],
    ['negatives', { promptTokens: -100, totalTokens: -95 }],
  ])('bad usage numbers (%s) are a MalformedResponseError and the reservation stands', async (_, usage) => {
    const { clock, agent, provider, client, inner } = setup([
      { content: 'hi', usage: usage as never },
      { content: 'again' },
    ]);
    const estimate = client.estimateTokens(request);
    const { error } = await settle(clock, client.chat(request));
    expect(MalformedResponseError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/usage/);
    expect(inner.calls).toHaveLength(1); // not retried
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
    expect(provider.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
  });

  it.each([
    [
      'a completion count above the max_tokens sent',
      { completionTokens: 10_000_000, totalTokens: 10_000_003 },
    ],
    ['1e308 tokens', { completionTokens: 1e308, totalTokens: 1e308 }],
    ['a fraction of a token', { completionTokens: 1.5, totalTokens: 4.5 }],
    ['a prompt count above the sanity cap', { promptTokens: 20_000_000, totalTokens: 20_000_001 }],
  ])('usage with %s is a MalformedResponseError and the reservation stands', async (_, usage) => {
    const { clock, agent, provider, client } = setup([
      { content: 'hi', usage: { promptTokens: 3, ...usage } },
    ]);
    const estimate = client.estimateTokens(request);
    const { error } = await settle(clock, client.chat(request));
    expect(MalformedResponseError.is(error)).toBe(true);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
    expect(provider.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
  });

  it('a streamed completion count above max_tokens is a MalformedResponseError, and the reservation stands', async () => {
    const { clock, agent, client } = setup([
      { content: 'hi', usage: { promptTokens: 3, completionTokens: 101, totalTokens: 104 } },
    ]);
    const estimate = client.estimateTokens(request);
    const { error } = await settle(clock, lastValueFrom(client.stream(request).pipe(toArray())));
    expect(MalformedResponseError.is(error)).toBe(true);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
  });

  it('a total that disagrees with prompt + completion is charged prompt + completion, logged', async () => {
    const { clock, agent, client, warnings } = setup([
      { content: 'hi', usage: { promptTokens: 3, completionTokens: 1, totalTokens: 400_000 } },
    ]);
    const { value } = await settle(clock, client.chat(request));
    expect(value?.usage).toEqual({ promptTokens: 3, completionTokens: 1, totalTokens: 4 });
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - 4);
    expect(warnings.some((w) => w.message.includes('total') && w.fields?.totalTokens === 400_000)).toBe(true);
  });

  it('bad usage in a streamed reply is a MalformedResponseError too, and the reservation stands', async () => {
    const { clock, agent, client } = setup([{ content: 'hi there', usage: { promptTokens: -1 } }]);
    const estimate = client.estimateTokens(request);
    const { error } = await settle(clock, lastValueFrom(client.stream(request).pipe(toArray())));
    expect(MalformedResponseError.is(error)).toBe(true);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
  });

  it.each([
    ['retry-after-ms: 1e12', 1e12],
    ['a retry-after date in 2099', Date.parse('2099-10-21T07:28:00Z') - Date.now()],
  ])('%s caps the cooldown at maxRetryAfterMs and goes to the caller, logged', async (_, ms) => {
    const { clock, client, provider, inner, warnings } = setup([limited(ms), { content: 'ok' }]);
    const { error } = await settle(clock, client.chat(request), 1, 100);
    expect(ProviderRateLimitError.is(error)).toBe(true);
    expect(inner.calls).toHaveLength(1);
    expect(provider.checkResourceAvailability().cooldownUntil).toBe(10 + 900_000);
    expect(warnings.some((w) => w.message.includes('maxRetryAfterMs') && w.fields?.retryAfterMs === ms)).toBe(
      true,
    );
    // The next caller is admitted once the capped cooldown is over.
    await clock.advanceAsync(900_000);
    expect(provider.checkResourceAvailability().available).toBe(true);
  });

  it('ignores a retry-after that is negative or not finite, and backs off instead (logged)', async () => {
    const { clock, client, provider, warnings } = setup([
      limited(Number.NaN),
      limited(-5),
      { content: 'ok' },
    ]);
    const { value } = await settle(clock, client.chat(request));
    expect(value?.content).toBe('ok');
    expect(provider.checkResourceAvailability().cooldownUntil).toBeNull();
    expect(warnings.filter((w) => w.message.includes('retry-after'))).toHaveLength(2);
  });

  it('ignores a negative remaining count (no debt of 1e15), logged', async () => {
    const { clock, client, provider, events, warnings } = setup([
      { content: 'ok', rateLimit: { remainingTokens: -1e15, remainingRequests: Number.NEGATIVE_INFINITY } },
    ]);
    await settle(clock, client.chat(request));
    expect(events.some((e) => e.type === 'feedback')).toBe(false);
    expect(provider.remaining('tokens')).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.message.includes('remaining'))).toHaveLength(2);
    const next = await settle(clock, provider.acquire({ requests: 1, tokens: 10 }));
    expect(next.error).toBeUndefined();
  });

  it.each([
    ['monitor', { enforceLimits: false }],
    ['reject', { rejectOnLimit: true }],
  ] as const)(
    'in %s mode waits out the retry-after itself before retrying, with a would-block event',
    async (_, mode) => {
      const { clock, client, sent, events } = setup(
        [limited(1_631), limited(1_631), { content: 'ok' }],
        mode as ResourceLimits,
      );
      const { value } = await settle(clock, client.chat(request), 1, 10_000);
      expect(value?.content).toBe('ok');
      expect(sent).toHaveLength(3);
      expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(1_631);
      expect(sent[2]! - sent[1]!).toBeGreaterThanOrEqual(1_631);
      const blocks = events.filter((e) => e.type === 'would-block');
      expect(blocks).toEqual([
        { type: 'would-block', limit: 'cooldown', waitMs: 1_631, reason: 'scripted answered 429' },
        { type: 'would-block', limit: 'cooldown', waitMs: 1_631, reason: 'scripted answered 429' },
      ]);
    },
  );

  it('a QuotaExhaustedError ends the call at once: no retry, no cooldown, refunded', async () => {
    const exhausted = new QuotaExhaustedError('You exceeded your current quota', {
      provider: 'scripted',
      status: 429,
    });
    const { clock, client, provider, agent, inner, events } = setup([exhausted, { content: 'ok' }]);
    const { error } = await settle(clock, client.chat(request));
    expect(QuotaExhaustedError.is(error)).toBe(true);
    expect(inner.calls).toHaveLength(1);
    expect(provider.checkResourceAvailability().cooldownUntil).toBeNull();
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(100);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000);
    expect(events.map((e) => e.type)).toEqual(['failed']);
  });
});
