import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_RUN_CHARS } from './boundedCount.js';
import { HeuristicTokenCounter } from './HeuristicTokenCounter.js';
import { encodingForModel, TiktokenCounter } from './TiktokenCounter.js';
import { TokenCountError } from './TokenCountError.js';
import { CHAT_OVERHEAD } from './TokenCounter.js';

describe('TiktokenCounter', () => {
  it('loads nothing until first use, then caches one encoder per encoding', () => {
    const counter = new TiktokenCounter();
    expect(counter.loadedEncodings).toEqual([]);
    expect(counter.countText('hello world')).toBe(2);
    expect(counter.countText('hello world', { model: 'gpt-4o-mini' })).toBe(2);
    expect(counter.loadedEncodings).toEqual(['o200k_base']);
    counter.countText('hello world', { model: 'gpt-4' });
    expect(counter.loadedEncodings).toEqual(['o200k_base', 'cl100k_base']);
    counter.dispose();
    expect(counter.loadedEncodings).toEqual([]);
  });

  it('counts special-token lookalikes as ordinary text instead of throwing', () => {
    const counter = new TiktokenCounter();
    expect(counter.countText('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('counts chat messages with the per-message and reply overhead', () => {
    const counter = new TiktokenCounter();
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hello world', name: 'ann' },
    ];
    const text = (s: string) => counter.countText(s);
    const expected =
      CHAT_OVERHEAD.perReply +
      2 * CHAT_OVERHEAD.perMessage +
      text('system') +
      text('You are terse.') +
      text('user') +
      text('hello world') +
      CHAT_OVERHEAD.perName +
      text('ann');
    expect(counter.countMessages(messages)).toBe(expected);
    // Tools add to the prompt.
    const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];
    expect(counter.countMessages(messages, { tools })).toBeGreaterThan(expected);
  });

  it('maps model names to encodings, with a fallback for other providers', () => {
    expect(encodingForModel('gpt-4o')).toBe('o200k_base');
    expect(encodingForModel('openai/gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gemini-2.5-flash')).toBe('o200k_base');
    expect(encodingForModel('llama3', 'cl100k_base')).toBe('cl100k_base');
  });
});

interface RawEncoder {
  encode_ordinary(text: string): Uint32Array;
  free(): void;
}
const tiktoken = createRequire(import.meta.url)('tiktoken') as {
  get_encoding(name: string): RawEncoder;
};

describe('TiktokenCounter on large and hostile text', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const raw = tiktoken.get_encoding('o200k_base');
  const full = (text: string) => raw.encode_ordinary(text).length;
  const shared = new TiktokenCounter();
  const ordinary = [
    'The quick brown fox jumps over the lazy dog. '.repeat(2_000),
    `function add(a, b) {\n  return a + b;\n}\n\n${'const x = add(1, 2); // sum\n'.repeat(500)}`,
    JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] }))),
    'https://example.com/a/very/long/path/with/many/segments?and=query&params=1#fragment '.repeat(50),
    'Grüße aus Köln! Ça va? ¿Qué tal? Доброе утро. こんにちは、世界。你好，世界。 😀👍🏽 '.repeat(300),
    'line one\r\n\tindented\n\n\n    four spaces\n'.repeat(400),
  ];

  it.each(ordinary.map((text) => [text.slice(0, 30), text]))(
    'counts ordinary text exactly: %j...',
    (_, text) => {
      expect(shared.countText(text)).toBe(full(text));
    },
  );

  it('counts a long run of one character without a WASM trap, close to the full count', () => {
    const counter = shared;
    // 'x' repeated: pieces of MAX_RUN_CHARS split where the full count does.
    expect(counter.countText('x'.repeat(20_000))).toBe(full('x'.repeat(20_000)));
    const cjk = '这是一个测试句子用于计算中文文本的令牌数量'.repeat(100); // one 2,100-character run
    const pieces = Math.ceil(cjk.length / MAX_RUN_CHARS);
    expect(Math.abs(counter.countText(cjk) - full(cjk))).toBeLessThanOrEqual(pieces);
    // 5 MB of one letter (it trapped the encoder): estimated from a sample, the same count.
    expect(counter.countText('x'.repeat(5_000_000))).toBe(625_000);
    expect(counter.countText('hello world')).toBe(2);
  });

  it('turns an encoder failure into TokenCountError and reloads the encoder afterwards', () => {
    const real = tiktoken.get_encoding;
    const trap = vi.spyOn(tiktoken, 'get_encoding').mockImplementationOnce(() => ({
      encode_ordinary: () => {
        throw Object.assign(new Error('unreachable'), { name: 'RuntimeError' }); // a WASM trap
      },
      free: () => {},
    }));
    const counter = new TiktokenCounter();
    let error: unknown;
    try {
      counter.countText('hello world');
    } catch (e) {
      error = e;
    }
    expect(TokenCountError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TOKEN_COUNT_FAILED', encoding: 'o200k_base' });
    expect((error as Error).message).toBe('Counting tokens with o200k_base failed: unreachable');
    expect(counter.loadedEncodings).toEqual([]);
    trap.mockImplementation(real);
    expect(counter.countText('hello world')).toBe(2);
  });

  it('warm() loads the encoding on a later turn of the event loop, without a count', async () => {
    const counter = new TiktokenCounter();
    const warming = counter.warm({ model: 'gpt-4' });
    expect(counter.loadedEncodings).toEqual([]);
    await warming;
    expect(counter.loadedEncodings).toEqual(['cl100k_base']);
    vi.spyOn(tiktoken, 'get_encoding').mockImplementation(() => {
      throw new Error('no encoder');
    });
    await expect(counter.warm()).resolves.toBeUndefined(); // a background load never rejects
    expect(counter.loadedEncodings).toEqual(['cl100k_base']);
    expect(() => counter.countText('hi')).toThrow(/Counting tokens with o200k_base failed: no encoder/);
  });
});

describe('HeuristicTokenCounter', () => {
  it('rounds characters per token up', () => {
    const counter = new HeuristicTokenCounter();
    expect(counter.countText('')).toBe(0);
    expect(counter.countText('abcde')).toBe(2);
    expect(counter.countMessages([{ role: 'user', content: 'abcd' }])).toBe(
      CHAT_OVERHEAD.perReply + CHAT_OVERHEAD.perMessage + 1 + 1,
    );
  });
});
