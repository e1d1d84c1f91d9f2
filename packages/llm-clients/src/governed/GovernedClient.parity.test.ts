import { ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ProviderError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import type { Script } from '../scripted/ScriptedClient.js';
import { scriptedGoverned } from '../test-support/scriptedGoverned.js';
import type { ChatRequest } from '../types.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'hello there' }], maxTokens: 100 };

/** Runs one call of `how` against a fresh client and governors; reports what everyone saw. */
async function observe(script: Script, how: 'chat' | 'stream', abortAtMs?: number) {
  const clock = new ManualClock();
  const governor = (name: string) =>
    new ResourceGovernor(
      { maxRequestsPerMinute: 100, maxTokensPerMinute: 100_000, algorithm: 'sliding-window' },
      { clock, name },
    );
  const agent = governor('agent');
  const provider = governor('provider');
  const { inner, client, events } = scriptedGoverned(script, clock, [agent, provider]);
  const controller = new AbortController();
  if (abortAtMs !== undefined) clock.setTimeout(() => controller.abort(), abortAtMs);
  const options = { signal: controller.signal };
  const call =
    how === 'chat'
      ? client.chat(request, options)
      : lastValueFrom(client.stream(request, options).pipe(toArray()));
  let outcome: string | undefined;
  call.then(
    () => {
      outcome = 'ok';
    },
    (error: unknown) => {
      outcome = `error ${(error as ProviderError).code}`;
    },
  );
  for (let i = 0; i < 1_000 && outcome === undefined; i++) await clock.advanceAsync(10);
  return {
    outcome,
    events,
    stats: { ...client.stats },
    agent: agent.checkResourceAvailability().remaining,
    provider: provider.checkResourceAvailability().remaining,
    cooldownUntil: provider.checkResourceAvailability().cooldownUntil,
    providerCalls: inner.calls.length,
  };
}

const scripts: ReadonlyArray<readonly [string, Script]> = [
  ['a success', [{ content: 'a reply in words', usage: { promptTokens: 9, completionTokens: 4 } }]],
  ['a 400', [new ProviderError('bad request', { provider: 'scripted', status: 400 }), { content: 'never' }]],
  [
    'a 429, then a success',
    [
      new ProviderRateLimitError('slow down', { provider: 'scripted', retryAfterMs: 2_000 }),
      { content: 'ok' },
    ],
  ],
  [
    'an exhausted quota',
    [
      new QuotaExhaustedError('You exceeded your current quota', { provider: 'scripted', status: 429 }),
      { content: 'never' },
    ],
  ],
];

describe('GovernedClient: chat and stream run the same attempt loop', () => {
  it.each(scripts)('emit the same events, stats and charges for %s', async (_, script) => {
    const chat = await observe(script, 'chat');
    const stream = await observe(script, 'stream');
    expect(stream).toEqual(chat);
    // Every call ends in exactly one `call` or one `failed` event.
    const ends = chat.events.filter((e) => e.type === 'call' || e.type === 'failed');
    expect(ends).toHaveLength(1);
    expect(chat.stats.calls).toBe(chat.stats.succeeded + chat.stats.failed);
  });

  it('end the same way when the caller aborts before the reply: AbortError, agent refunded', async () => {
    const slow: Script = [{ content: 'slow', delayMs: 60_000 }];
    const chat = await observe(slow, 'chat', 100);
    const stream = await observe(slow, 'stream', 100);
    expect(stream).toEqual(chat);
    expect(chat.outcome).toBe('error ABORTED');
    expect(chat.events.map((e) => e.type)).toEqual(['failed']);
    expect(chat.agent.tokensPerMinute).toBe(100_000);
    expect(chat.provider.requestsPerMinute).toBe(99); // it may have been admitted
  });

  it('the events are the ones each script calls for', async () => {
    const types = async (script: Script) => (await observe(script, 'stream')).events.map((e) => e.type);
    expect(await types(scripts[0]![1])).toEqual(['call']);
    expect(await types(scripts[1]![1])).toEqual(['failed']);
    expect(await types(scripts[2]![1])).toEqual(['rate-limited', 'retry', 'call']);
    expect(await types(scripts[3]![1])).toEqual(['failed']);
  });
});
