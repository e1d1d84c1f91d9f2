import { describe, expect, it } from 'vitest';
import { assembleChunks } from './assemble.js';

const fallback = {
  model: 'asked-for',
  usage: (text: string) => ({ promptTokens: 3, completionTokens: text.length, totalTokens: 3 + text.length }),
};

describe('assembleChunks', () => {
  it('joins text and keeps the first id, model, request id and rate limits, and the final usage', () => {
    const reply = assembleChunks(
      [
        {
          id: 'chatcmpl-1',
          model: 'gpt-4o-mini-2024',
          requestId: 'req_1',
          rateLimit: { remainingRequests: 4 },
        },
        { content: 'Hello' },
        { content: ', world' },
        { finishReason: 'stop' },
        { usage: { promptTokens: 9, completionTokens: 3, totalTokens: 12 } },
      ],
      fallback,
    );
    expect(reply).toEqual({
      id: 'chatcmpl-1',
      model: 'gpt-4o-mini-2024',
      content: 'Hello, world',
      toolCalls: [],
      finishReason: 'stop',
      usage: { promptTokens: 9, completionTokens: 3, totalTokens: 12 },
      requestId: 'req_1',
      rateLimit: { remainingRequests: 4 },
    });
  });

  it('merges tool-call fragments by index, in index order, with null content', () => {
    const reply = assembleChunks(
      [
        { toolCallDeltas: [{ index: 1, id: 'call_b', name: 'fetch', arguments: '{"url":' }] },
        { toolCallDeltas: [{ index: 0, id: 'call_a', name: 'search', arguments: '{"q"' }] },
        {
          toolCallDeltas: [
            { index: 0, arguments: ':"x"}' },
            { index: 1, arguments: '"y"}' },
          ],
        },
      ],
      fallback,
    );
    expect(reply.content).toBeNull();
    expect(reply.toolCalls).toEqual([
      { id: 'call_a', name: 'search', arguments: '{"q":"x"}' },
      { id: 'call_b', name: 'fetch', arguments: '{"url":"y"}' },
    ]);
    expect(reply.finishReason).toBe('tool_calls'); // none was streamed
    // No usage chunk: counted from what streamed (names and arguments here).
    const streamed = 'fetch{"url":search{"q":"x"}"y"}';
    expect(reply.usage.completionTokens).toBe(streamed.length);
    expect(reply.model).toBe('asked-for');
  });
});
