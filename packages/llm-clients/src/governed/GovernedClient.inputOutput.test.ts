import { ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../errors.js';
import type { Script } from '../scripted/ScriptedClient.js';
import { scriptedGoverned, testCounter } from '../test-support/scriptedGoverned.js';
import type { ChatRequest } from '../types.js';
import type { GovernedClientOptions } from './options.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'hello there' }], maxTokens: 100 };
const prompt = testCounter.countMessages([{ role: 'user', content: 'hello there' }]);

/** A provider governor with separate input and output token limits (sliding windows, exact). */
function setup(script: Script, options: Partial<GovernedClientOptions> = {}) {
  const clock = new ManualClock();
  const rate = (resource: string, limit: number) => ({
    name: resource,
    resource,
    limit,
    windowMs: 60_000,
    algorithm: 'sliding-window' as const,
  });
  const provider = new ResourceGovernor(
    { rates: [rate('inputTokens', 10_000), rate('outputTokens', 2_000), rate('requests', 100)] },
    { clock, name: 'provider' },
  );
  const { client, events } = scriptedGoverned(script, clock, [provider], options);
  const remaining = () => provider.checkResourceAvailability().remaining;
  const run = async <T>(promise: Promise<T>) => {
    let done = false;
    promise.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (let i = 0; i < 1_000 && !done; i++) await clock.advanceAsync(10);
    return promise;
  };
  return { clock, provider, client, events, remaining, run };
}

describe('GovernedClient against separate input and output token limits', () => {
  it('reserves the prompt on the input limit and max tokens on the output limit while the call is out', async () => {
    const { clock, client, remaining, run } = setup([{ content: 'ok', delayMs: 1_000 }]);
    const pending = client.chat(request);
    await clock.advanceAsync(10);
    expect(remaining()).toEqual({ inputTokens: 10_000 - prompt, outputTokens: 2_000 - 100, requests: 99 });
    await run(pending);
  });

  it.each([
    ['chat', 'usage'],
    ['stream', 'usage'],
    ['chat', 'admission'],
  ] as const)('%s settles input without cache reads, output as charged (%s)', async (how, charging) => {
    const usage = { promptTokens: 500, completionTokens: 30, totalTokens: 530, cacheReadTokens: 420 };
    const { client, remaining, run } = setup([{ content: 'ok', usage }], { providerCharging: charging });
    const call: Promise<unknown> =
      how === 'chat' ? client.chat(request) : lastValueFrom(client.stream(request).pipe(toArray()));
    await run(call);
    expect(remaining()).toEqual({
      inputTokens: 10_000 - 80,
      outputTokens: 2_000 - (charging === 'usage' ? 30 : 100),
      requests: 99,
    });
    expect(client.stats.usage).toMatchObject({ promptTokens: 500, cacheReadTokens: 420 });
  });

  it('refunds input and output tokens when the provider refuses the call', async () => {
    const { ProviderError } = await import('../errors.js');
    const bad = new ProviderError('bad request', { provider: 'scripted', status: 400 });
    const { client, remaining, run } = setup([bad]);
    await expect(run(client.chat(request))).rejects.toMatchObject({ status: 400 });
    expect(remaining()).toEqual({ inputTokens: 10_000, outputTokens: 2_000, requests: 100 });
  });

  it('cache counts that do not fit in the prompt are a malformed reply, and the reservation stands', async () => {
    const usage = { promptTokens: 10, completionTokens: 3, totalTokens: 13, cacheReadTokens: 11 };
    const { client, remaining, run } = setup([{ content: 'ok', usage }]);
    await expect(run(client.chat(request))).rejects.toSatisfy(MalformedResponseError.is);
    expect(remaining()).toEqual({ inputTokens: 10_000 - prompt, outputTokens: 2_000 - 100, requests: 99 });
  });

  it("lowers the input and output limits by what the provider's headers reveal", async () => {
    const rateLimit = { remainingInputTokens: 4_000, remainingOutputTokens: 500 };
    const usage = { promptTokens: prompt, completionTokens: 1, totalTokens: prompt + 1 };
    const { client, remaining, events, run } = setup([{ content: 'ok', usage, rateLimit }]);
    await run(client.chat(request));
    // At send time we had 10,000 - prompt and 1,900 left: the provider says less, so others used the key.
    expect(events.filter((e) => e.type === 'feedback')).toEqual([
      { type: 'feedback', resource: 'inputTokens', lowered: 10_000 - prompt - 4_000 },
      { type: 'feedback', resource: 'outputTokens', lowered: 1_900 - 500 },
    ]);
    // Our own call is in the provider's counts too, so we now see what it sees.
    expect(remaining()).toEqual({ inputTokens: 4_000, outputTokens: 500, requests: 99 });
  });
});
