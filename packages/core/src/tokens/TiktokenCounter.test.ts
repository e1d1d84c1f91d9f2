import { describe, expect, it } from 'vitest';
import { HeuristicTokenCounter } from './HeuristicTokenCounter.js';
import { encodingForModel, TiktokenCounter } from './TiktokenCounter.js';
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
