import { TiktokenCounter } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { countPrompt } from './countPrompt.js';

const counter = new TiktokenCounter();
const options = { model: 'gpt-4o-mini', tools: [] };

describe('countPrompt', () => {
  it('counts a prompt of normal size exactly as a client estimates it', async () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(500) },
    ];
    expect(await countPrompt(counter, messages, options)).toBe(counter.countMessages(messages, options));
  });

  it('counts a huge prompt over many turns of the event loop, close to the whole count', async () => {
    const messages = [{ role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(20_000) }];
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const tokens = await countPrompt(counter, messages, options);
    counting = false;
    // 540 k characters in 2 k pieces, a turn every 8 pieces: some 33 turns.
    expect(turns).toBeGreaterThanOrEqual(30);
    const whole = counter.countMessages(messages, options);
    expect(Math.abs(tokens - whole)).toBeLessThanOrEqual(Math.ceil(540_000 / 2_048));
  });
});
