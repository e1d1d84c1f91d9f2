import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Simulator, startSimulator } from '../server.js';

// Composing a reply fails once, after admission (a fault no valid input reaches any more).
const failNext = vi.hoisted(() => ({ count: 0 }));
vi.mock('../compose.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../compose.js')>();
  return {
    ...original,
    composeReply: (...args: Parameters<typeof original.composeReply>) => {
      if (failNext.count > 0) {
        failNext.count--;
        throw new Error('composing the reply failed');
      }
      return original.composeReply(...args);
    },
  };
});

const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const body = JSON.stringify({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  failNext.count = 0;
});

describe('simulator Anthropic route: a request that fails after admission', () => {
  it('gives back the output tokens it reserved: the whole OTPM is free for the next call', async () => {
    sim = await startSimulator({
      latency: { ttftMs: 0, perTokenMs: 0, jitter: 0 },
      quota: { outputTokensPerWindow: 100, windowMs: 3_600_000 },
    });
    const post = () => fetch(`${sim!.url}/v1/messages`, { method: 'POST', headers, body });
    failNext.count = 1;
    const failed = await post();
    await failed.text();
    expect(failed.status).toBe(500);
    expect(sim.stats()).toMatchObject({ admitted: 1 });
    const next = await post();
    await next.text();
    expect(next.status).toBe(200);
  });
});
