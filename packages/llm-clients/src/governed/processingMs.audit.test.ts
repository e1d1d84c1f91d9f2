// Audit: a provider's processing time must never count a call from before it was sent.
import { ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { describe, expect, it } from 'vitest';
import { scriptedGoverned } from '../test-support/scriptedGoverned.js';
import type { ChatRequest } from '../types.js';

const request: ChatRequest = { messages: [{ role: 'user', content: 'hello' }], maxTokens: 10 };

describe('endHold with a provider processing time (audit)', () => {
  it('a huge openai-processing-ms cannot count the call from before it reached the provider', async () => {
    const clock = new ManualClock();
    // The provider's governor is taken first; a budget governor after it makes the call wait 60 s.
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window' },
      { clock, name: 'provider' },
    );
    const budget = new ResourceGovernor(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window', resourceWaitTimeoutSeconds: 600 },
      { clock, name: 'budget' },
    );
    const spent = await budget.acquire({ requests: 1 });
    spent.release();
    // A hostile (or proxied, or clock-skewed) header: parseProcessingMs keeps huge values.
    const script = [{ content: 'hi', rateLimit: { processingMs: 1e12 } }];
    const { inner, client } = scriptedGoverned(script, clock, [provider, budget], {
      providerGovernor: provider,
    });
    const sentAt: number[] = [];
    const chat = inner.chat.bind(inner);
    inner.chat = (req, opts) => {
      sentAt.push(clock.now());
      return chat(req, opts);
    };
    const reply = client.chat(request);
    for (let i = 0; i < 700 && sentAt.length === 0; i++) await clock.advanceAsync(100);
    for (let i = 0; i < 10; i++) await clock.advanceAsync(10);
    await reply;
    // The provider got the call at 60 s: it counts it in its minute until 120 s at least.
    expect(sentAt[0]).toBeGreaterThanOrEqual(59_000);
    await clock.advanceAsync(61_000 - clock.now());
    // The call's window entry was moved back to the provider lease's grant (t = 0), a minute
    // before the call was sent: the governor frees the provider's only request at 60 s.
    const early = provider.tryAcquire({ requests: 1 });
    early?.release();
    expect(early).toBeUndefined();
  });
});
