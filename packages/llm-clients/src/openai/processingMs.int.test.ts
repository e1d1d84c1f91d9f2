import { systemClock, TiktokenCounter } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { beforeAll, describe, expect, it } from 'vitest';
import { GovernedClient } from '../governed/GovernedClient.js';
import { user, useSimulators } from '../test-support/simulatorClients.js';
import { OpenAIClient } from './OpenAIClient.js';

const KEY = 'sk-secret-do-not-log-proc';
const tokenCounter = new TiktokenCounter();
beforeAll(() => {
  tokenCounter.countText('warm up');
});
const LATENCY_MS = 150;
const sim = useSimulators(KEY, { tokenCounter, latency: { ttftMs: LATENCY_MS, perTokenMs: 0, jitter: 0 } });

const post = (baseURL: string, stream: boolean) =>
  fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'sim-small',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 20,
      stream,
    }),
  });

describe('openai-processing-ms', () => {
  it('the simulator sends it: the time from admission to the headers, within the round trip', async () => {
    const s = await sim();
    for (const stream of [false, true]) {
      const sent = performance.now();
      const response = await post(s.baseURL, stream);
      const roundTrip = performance.now() - sent;
      await response.text();
      const ms = Number(response.headers.get('openai-processing-ms'));
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeLessThanOrEqual(Math.ceil(roundTrip));
      // A whole reply's headers leave after its latency; a stream's at once.
      if (stream) expect(ms).toBeLessThan(LATENCY_MS);
      else expect(ms).toBeGreaterThanOrEqual(LATENCY_MS - 2);
    }
  });

  for (const chatTransport of ['whole', 'stream'] as const) {
    it(`ends the provider hold as of the admission it reports (${chatTransport}): the next call goes a window after it, not after the reply, with no 429`, async () => {
      const windowMs = 500;
      const s = await sim({ quota: { requestsPerWindow: 1, windowMs } });
      const provider = new ResourceGovernor(
        {
          maxRequestsPerMinute: 1,
          algorithm: 'sliding-window',
          timeScale: 60_000 / windowMs,
          windowPaddingMs: 1,
        },
        { name: 'provider' },
      );
      const acquired: number[] = [];
      provider.events$.subscribe((e) => {
        if (e.type === 'acquired') acquired.push(e.at);
      });
      const client = new GovernedClient(
        new OpenAIClient({ model: 'sim-small', baseURL: s.baseURL, apiKey: KEY }),
        {
          governors: [provider],
          tokenCounter,
          chatTransport,
        },
      );
      const replies: number[] = [];
      for (let i = 0; i < 4; i++) {
        const reply = await client.chat(user(`question ${i}`));
        replies.push(systemClock.now());
        expect(reply.rateLimit?.processingMs).toBeGreaterThanOrEqual(0);
      }
      expect(s.stats()).toMatchObject({ admitted: 4, rateLimited: 0, maxRequestsInWindow: 1 });
      for (let i = 1; i < 4; i++) {
        expect(acquired[i]! - acquired[i - 1]!).toBeGreaterThanOrEqual(windowMs);
        // Without the header, the window would count from the reply: a whole latency later.
        expect(acquired[i]!).toBeLessThan(replies[i - 1]! + windowMs - LATENCY_MS / 2);
      }
    });
  }
});
