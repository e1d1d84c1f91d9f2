// hostile bodies on Anthropic's /v1/messages and Gemini's generateContent, on the simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ keys: [{ name: 'one', permissions: ['read', 'write'] }] });
}, 60_000);
afterAll(() => h?.close());

const key = testKey('one');
const msg = (content: unknown) => ({
  model: 'claude-sim',
  max_tokens: 8,
  messages: [{ role: 'user', content }],
});
const gem = (parts: unknown) => ({ contents: [{ role: 'user', parts }] });
const GEM = '/v1beta/models/gemini-sim:generateContent';

describe('hostile provider bodies get a 2xx or a 4xx, never a 5xx', () => {
  const cases: Array<[string, string, unknown]> = [
    ['anthropic text part with a number', '/v1/messages', msg([{ type: 'text', text: 123 }])],
    ['anthropic text part with an object', '/v1/messages', msg([{ type: 'text', text: { a: 1 } }])],
    ['anthropic part without type', '/v1/messages', msg([{}])],
    ['anthropic NUL bytes', '/v1/messages', msg('a\u0000b')],
    ['anthropic lone surrogate', '/v1/messages', msg('a\ud800b')],
    [
      'anthropic system as array of junk',
      '/v1/messages',
      { ...msg('hi'), system: [{ type: 'text', text: null }] },
    ],
    ['anthropic tools of junk', '/v1/messages', { ...msg('hi'), tools: [{ name: 5, input_schema: 'x' }] }],
    ['gemini part text number', GEM, gem([{ text: 7 }])],
    ['gemini part text object', GEM, gem([{ text: { a: 1 } }])],
    ['gemini functionCall cyclic-looking', GEM, gem([{ functionCall: { name: 1, args: [] } }])],
    ['gemini systemInstruction junk', GEM, { ...gem([{ text: 'x' }]), systemInstruction: { parts: 'no' } }],
    ['gemini tools junk', GEM, { ...gem([{ text: 'x' }]), tools: [{ functionDeclarations: 'no' }] }],
    ['gemini NUL bytes', GEM, gem([{ text: 'a\u0000b' }])],
  ];
  for (const [name, path, body] of cases)
    it(name, async () => {
      const r = await call(h.gateway, path, { key, body });
      const text = await r.text();
      expect([r.status < 500, text.slice(0, 200)]).toEqual([true, text.slice(0, 200)]);
    });

  it('a body nested 10 000 deep is a 400', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const r = await call(h.gateway, '/v1/messages', {
      key,
      body: `{"model":"claude-sim","max_tokens":8,"messages":[{"role":"user","content":"hi"}],"x":${deep}}`,
    });
    expect(r.status).toBe(400);
  });

  it('a 64 KiB header value is refused with a 4xx, and the gateway still answers after', async () => {
    const r = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-beta': 'x'.repeat(65_536) },
      body: JSON.stringify(msg('hi')),
    }).catch(() => undefined);
    if (r) expect(r.status).toBeLessThan(500);
    expect((await call(h.gateway, '/health')).status).toBe(200);
  });
});
