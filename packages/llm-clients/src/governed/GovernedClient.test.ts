import { AbortError, HeuristicTokenCounter, ManualClock, ResourceLimitExceededError } from '@tollgate/core';
import { type GovernorEvent, ResourceGovernor, type ResourceLimits } from '@tollgate/limits';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, ProviderError, ProviderRateLimitError } from '../errors.js';
import type { Script } from '../scripted/ScriptedClient.js';
import { scriptedGoverned } from '../test-support/scriptedGoverned.js';
import type { ChatChunk, ChatRequest, LLMClient } from '../types.js';
import { GovernedClient } from './GovernedClient.js';
import type { GovernedClientOptions } from './options.js';

const counter = new HeuristicTokenCounter();
const request: ChatRequest = { messages: [{ role: 'user', content: 'hello there' }], maxTokens: 100 };

function setup(
  script: Script,
  limits: { agent?: ResourceLimits; provider?: ResourceLimits } = {},
  options: Partial<GovernedClientOptions> = {},
) {
  const clock = new ManualClock();
  // Sliding windows: what is used stays used for the minute, so remaining counts are exact.
  const exact = (l: ResourceLimits): ResourceLimits => ({ algorithm: 'sliding-window', ...l });
  const agent = new ResourceGovernor(exact(limits.agent ?? { maxTokensPerMinute: 100_000 }), {
    clock,
    name: 'agent',
  });
  const provider = new ResourceGovernor(
    exact(limits.provider ?? { maxRequestsPerMinute: 100, maxTokensPerMinute: 100_000 }),
    {
      clock,
      name: 'provider',
    },
  );
  const { inner, client, events } = scriptedGoverned(script, clock, [agent, provider], options);
  const providerEvents: GovernorEvent[] = [];
  provider.events$.subscribe((e) => providerEvents.push(e));
  return { clock, agent, provider, inner, client, events, providerEvents };
}

async function run<T>(clock: ManualClock, promise: Promise<T>, stepMs = 10, maxSteps = 10_000): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  tracked.catch(() => {});
  for (let i = 0; i < maxSteps && !done; i++) await clock.advanceAsync(stepMs);
  return tracked;
}

describe('GovernedClient', () => {
  it('reserves prompt + max tokens on every governor, then settles: real usage for the agent, admission charge for the provider', async () => {
    const { clock, agent, provider, client } = setup([
      { content: 'four token reply here', usage: { promptTokens: 9, completionTokens: 6 } },
    ]);
    const estimate = client.estimateTokens(request);
    expect(estimate).toBe(counter.countMessages([{ role: 'user', content: 'hello there' }]) + 100);
    const pending = client.chat(request);
    await clock.advanceAsync(0);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - estimate);
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(99);
    const reply = await run(clock, pending);
    expect(reply.content).toBe('four token reply here');
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - 15);
    expect(provider.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - (9 + 100));
    expect(client.stats).toMatchObject({ calls: 1, succeeded: 1, failed: 0, usage: { totalTokens: 15 } });
  });

  it('settles the provider with real usage when it charges usage', async () => {
    const { clock, provider, client } = setup(
      [{ content: 'x', usage: { promptTokens: 9, completionTokens: 6 } }],
      {},
      { providerCharging: 'usage' },
    );
    await run(clock, client.chat(request));
    expect(provider.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - 15);
  });

  it('on a 429 cools the provider governor down for everyone, then retries once the cooldown ends', async () => {
    const rateLimited = new ProviderRateLimitError('slow down', {
      provider: 'scripted',
      retryAfterMs: 2_000,
    });
    const { clock, provider, client, events, providerEvents } = setup([rateLimited, { content: 'ok' }]);
    const pending = client.chat(request);
    await clock.advanceAsync(10);
    expect(provider.checkResourceAvailability().cooldownUntil).toBe(2_010);
    // Another caller sharing the provider waits for the cooldown too.
    const other = provider.acquire({ requests: 1 });
    let otherAt = -1;
    other.then(() => {
      otherAt = clock.now();
    });
    const reply = await run(clock, pending);
    expect(reply.content).toBe('ok');
    expect(otherAt).toBeGreaterThanOrEqual(2_010);
    expect(events.map((e) => e.type)).toEqual(['rate-limited', 'retry', 'call']);
    expect(providerEvents.some((e) => e.type === 'cooldown')).toBe(true);
    expect(client.stats).toMatchObject({ rateLimited: 1, retries: 1, succeeded: 1 });
  });

  it('retries 5xx with full-jitter backoff and gives up after maxAttempts with the typed error', async () => {
    const error500 = new ProviderError('boom', { provider: 'scripted', status: 500 });
    const { clock, client, events, agent, provider } = setup(
      [error500, error500, error500],
      {},
      { retry: { maxAttempts: 3, baseDelayMs: 1000 } },
    );
    const error = await run(clock, client.chat(request)).catch((e: unknown) => e);
    expect(ProviderError.is(error)).toBe(true);
    expect((error as ProviderError).status).toBe(500);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => e.type === 'retry' && e.delayMs)).toEqual([500, 1000]); // random 0.5 x 1000 x 2^(n-1)
    expect(events.at(-1)).toMatchObject({ type: 'failed', attempts: 3 });
    // Nothing stays reserved for the agent; the provider keeps the 3 requests it may have
    // admitted, with their token reservations (prompt + max tokens = 110 each), since a
    // provider that charges at admission charged them too.
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000);
    expect(provider.checkResourceAvailability().remaining).toEqual({
      requestsPerMinute: 97,
      tokensPerMinute: 100_000 - 3 * client.estimateTokens(request),
    });
  });

  it('does not retry a 4xx other than 408/409/429, and refunds everything', async () => {
    const bad = new ProviderError('bad request', { provider: 'scripted', status: 400 });
    const { clock, client, provider } = setup([bad, { content: 'never' }]);
    await expect(run(clock, client.chat(request))).rejects.toMatchObject({ status: 400, isRetryable: false });
    expect(provider.checkResourceAvailability().remaining).toEqual({
      requestsPerMinute: 100,
      tokensPerMinute: 100_000,
    });
  });

  it('fails at once when a request can never fit a limit', async () => {
    const { client } = setup([{ content: 'x' }], { provider: { maxTokensPerMinute: 50 } });
    await expect(client.chat(request)).rejects.toSatisfy(ResourceLimitExceededError.is);
  });

  it('opens the circuit after consecutive failures, fails fast, and closes after a good probe', async () => {
    const down = new ProviderError('unavailable', { provider: 'scripted', status: 503 });
    const { clock, client } = setup(
      [down, down, { content: 'back' }],
      {},
      {
        retry: { maxAttempts: 1 },
        circuitBreaker: { failureThreshold: 2, resetMs: 5_000 },
      },
    );
    const states: string[] = [];
    client.circuitState$.subscribe((s) => states.push(s));
    await expect(run(clock, client.chat(request))).rejects.toMatchObject({ status: 503 });
    await expect(run(clock, client.chat(request))).rejects.toMatchObject({ status: 503 });
    await expect(client.chat(request)).rejects.toSatisfy(CircuitOpenError.is);
    await clock.advanceAsync(5_000);
    expect((await run(clock, client.chat(request))).content).toBe('back');
    expect(states).toEqual(['closed', 'open', 'half-open', 'closed']);
  });

  it('aborts an in-flight call and releases everything', async () => {
    const { clock, client, agent, provider } = setup([{ content: 'slow', delayMs: 60_000 }]);
    const controller = new AbortController();
    const pending = client.chat(request, { signal: controller.signal });
    await clock.advanceAsync(100);
    controller.abort();
    await expect(pending).rejects.toSatisfy(AbortError.is);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000);
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(99); // may have been admitted
  });

  it('aborts a caller still waiting for the governor without calling the provider', async () => {
    const { clock, client, inner } = setup([{ content: 'x' }], {
      provider: { maxRequestsPerMinute: 1, algorithm: 'sliding-window' },
    });
    await run(clock, client.chat(request));
    const controller = new AbortController();
    const waiting = client.chat(request, { signal: controller.signal });
    await clock.advanceAsync(100);
    controller.abort();
    await expect(waiting).rejects.toSatisfy(AbortError.is);
    expect(inner.calls).toHaveLength(1);
  });

  it("lowers the provider governor by what the provider's headers reveal, never raises it", async () => {
    // The provider's headers say someone else used 30 requests.
    const script: Script = [
      { content: 'x', rateLimit: { remainingRequests: 69, remainingTokens: 1_000_000 } },
    ];
    const { clock, provider, client, events } = setup(script, { provider: { maxRequestsPerMinute: 100 } });
    await run(clock, client.chat(request));
    // We had 99 left at send time; the provider says 69: 30 were used elsewhere.
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(69);
    expect(events.filter((e) => e.type === 'feedback')).toEqual([
      { type: 'feedback', resource: 'requests', lowered: 30 },
    ]);
  });

  it('streams through the tollgate and settles when the stream ends', async () => {
    const { clock, client, agent } = setup([
      { content: 'a streamed reply', usage: { promptTokens: 9, completionTokens: 4 } },
    ]);
    const chunks = run(clock, lastValueFrom(client.stream(request).pipe(toArray())));
    const all = await chunks;
    expect(all.map((c) => c.content ?? '').join('')).toBe('a streamed reply');
    expect(all.at(-1)?.usage?.totalTokens).toBe(13);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - 13);
  });

  it.each([
    ['stream()', 'stream'],
    ["chat() with chatTransport: 'stream'", 'chat'],
    ["chat() with chatTransport: 'whole' (the reply ends the hold)", 'whole'],
  ] as const)("ends the provider's hold when a reply starts streaming: %s", async (_, how) => {
    const clock = new ManualClock();
    // A provider that streams its reply: first chunk after 100 ms, the end after 500 ms.
    const started: number[] = [];
    const slow: LLMClient = {
      specificationVersion: 'v1',
      provider: 'slow',
      model: 'slow',
      chat: async () => {
        started.push(clock.now());
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 500));
        return {
          id: 'whole',
          model: 'slow',
          content: 'first last',
          toolCalls: [],
          finishReason: 'stop',
          usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 },
        };
      },
      stream: () =>
        new Observable<ChatChunk>((subscriber) => {
          started.push(clock.now());
          const first = clock.setTimeout(() => subscriber.next({ id: 'streamed', content: 'first ' }), 100);
          const last = clock.setTimeout(() => {
            subscriber.next({ content: 'last', finishReason: 'stop' });
            subscriber.next({ usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 } });
            subscriber.complete();
          }, 500);
          return () => {
            clock.clearTimeout(first);
            clock.clearTimeout(last);
          };
        }),
    };
    // One request per 1 s window, strict: the provider counts a call when it arrives.
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window', timeScale: 60 },
      { clock },
    );
    const client = new GovernedClient(slow, {
      governors: [provider],
      tokenCounter: counter,
      clock,
      chatTransport: how === 'whole' ? 'whole' : 'stream',
    });
    const call = async () => {
      if (how !== 'stream') return client.chat(request);
      const chunks = await lastValueFrom(client.stream(request).pipe(toArray()));
      return { content: chunks.map((c) => c.content ?? '').join(''), usage: chunks.at(-1)!.usage };
    };
    const replies = await run(clock, Promise.all([call(), call()]));
    expect(replies.map((r) => [r.content, r.usage?.totalTokens])).toEqual([
      ['first last', 7],
      ['first last', 7],
    ]);
    // A streamed reply lets the second call go one window after the first reply started
    // (100 ms), a whole reply one window after it ended (500 ms).
    expect(started).toEqual([0, how === 'whole' ? 1_500 : 1_100]);
  });

  it('settles a cancelled stream with what it produced so far', async () => {
    const { clock, client, agent } = setup([{ content: 'never finishes', delayMs: 60_000 }]);
    const sub = client.stream(request).subscribe();
    await clock.advanceAsync(100);
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBeLessThan(100_000);
    sub.unsubscribe();
    await clock.advanceAsync(0);
    const promptOnly = client.estimateTokens(request) - 100;
    expect(agent.checkResourceAvailability().remaining.tokensPerMinute).toBe(100_000 - promptOnly);
  });
});
