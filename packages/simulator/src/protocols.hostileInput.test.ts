import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './server.js';

// Hostile but well-formed JSON on the Anthropic and Gemini routes must be refused as a
// 400 naming the field, never crash the handler into a 500 (which clients retry).
const sims: Simulator[] = [];
async function start() {
  const sim = await startSimulator({ latency: { ttftMs: 0, perTokenMs: 0, jitter: 0 } });
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** An object JSON.parse accepts that `String()` cannot convert. */
const unprintable = { toString: 1 };
const anthropic = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
const gemini = { 'x-goog-api-key': 'k', 'content-type': 'application/json' };
const hi = { parts: [{ text: 'hi' }] };
const openai = { authorization: 'Bearer k', 'content-type': 'application/json' };

describe('simulator protocols: hostile field values get a 400, not a 500', () => {
  it.each([
    [
      'anthropic tool_result.tool_use_id',
      '/v1/messages',
      anthropic,
      {
        model: 'm',
        max_tokens: 5,
        messages: [
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: unprintable, content: 'x' }] },
        ],
      },
    ],
    [
      'anthropic tool_use.name',
      '/v1/messages',
      anthropic,
      {
        model: 'm',
        max_tokens: 5,
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', name: unprintable, input: {} }] },
          { role: 'user', content: 'hi' },
        ],
      },
    ],
    [
      'gemini functionCall.name',
      '/v1beta/models/g:generateContent',
      gemini,
      {
        contents: [{ role: 'model', parts: [{ functionCall: { name: unprintable } }] }, hi],
      },
    ],
    [
      'gemini functionDeclarations[].name',
      '/v1beta/models/g:generateContent',
      gemini,
      {
        tools: [{ functionDeclarations: [{ name: unprintable }] }],
        contents: [hi],
      },
    ],
    [
      'gemini allowedFunctionNames[0]',
      '/v1beta/models/g:generateContent',
      gemini,
      {
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [unprintable] } },
        contents: [hi],
      },
    ],
    [
      'gemini functionResponse.name',
      '/v1beta/models/g:generateContent',
      gemini,
      {
        contents: [{ role: 'user', parts: [{ functionResponse: { name: unprintable, response: {} } }] }],
      },
    ],
    [
      'openai tool message tool_call_id',
      '/v1/chat/completions',
      openai,
      {
        model: 'm',
        messages: [{ role: 'tool', tool_call_id: unprintable, content: 'x' }],
      },
    ],
    [
      'openai tool parameters with a non-array required',
      '/v1/chat/completions',
      openai,
      {
        model: 'm',
        tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object', required: 5 } } }],
        tool_choice: { type: 'function', function: { name: 't' } },
        messages: [{ role: 'user', content: 'hi' }],
      },
    ],
  ])('%s', async (_name, path, headers, body) => {
    const sim = await start();
    const res = await fetch(sim.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
    await res.text();
    expect(res.status).toBe(400);
  });

  it('gemini: a model name with a malformed percent-escape', async () => {
    const sim = await start();
    const res = await fetch(`${sim.url}/v1beta/models/%E0%A4%A:generateContent`, {
      method: 'POST',
      headers: gemini,
      body: JSON.stringify({ contents: [hi] }),
    });
    await res.text();
    expect(res.status).toBe(400);
  });
});

describe('simulator Anthropic route: a tool schema replies cannot be composed from', () => {
  const forcedTool = (inputSchema: unknown) => ({
    model: 'm',
    max_tokens: 100,
    tools: [{ name: 't', input_schema: inputSchema }],
    tool_choice: { type: 'tool', name: 't' },
    messages: [{ role: 'user', content: 'hi' }],
  });
  const post = (sim: Simulator, body: unknown) =>
    fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: anthropic, body: JSON.stringify(body) });

  it('a tool input_schema with a non-array `required` is a 400 before admission', async () => {
    const sim = await start();
    const res = await post(
      sim,
      forcedTool({ type: 'object', required: 5, properties: { a: { type: 'string' } } }),
    );
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(res.status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error' });
    expect(body.error.message).toContain('tools.0.input_schema.required');
    expect(sim.stats()).toMatchObject({ admitted: 0 });
  });

  it('so is a nested one, and a required list holding a non-string', async () => {
    const sim = await start();
    const nested = { type: 'object', properties: { a: { type: 'object', required: 'x' } } };
    for (const schema of [nested, { type: 'object', required: [unprintable] }]) {
      const res = await post(sim, forcedTool(schema));
      await res.text();
      expect(res.status).toBe(400);
    }
  });
});
