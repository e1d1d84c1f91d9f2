// countPrompt: a request's prompt tokens, large prompts counted in pieces between event-loop turns.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CountableMessage, TokenCounter } from '@tollgate/core';

/** Up to this many characters of text, a prompt is counted whole, exactly as clients count it. */
const EXACT_UP_TO = 64 * 1024;
/** Larger prompts are counted in pieces of this many characters... */
const PIECE = 2_048;
/** ...yielding to the event loop after this many pieces. */
const PIECES_PER_TURN = 8;

/**
 * Prompt tokens of a request. A prompt of up to 64 Ki characters is counted in one go (the
 * same count a governed client estimates, so token windows match exactly); a larger one
 * is counted piece by piece, yielding to the event loop between pieces, so one huge or
 * hostile prompt (a long run of one letter is slow to tokenize) never stalls other
 * requests. The piecewise count may differ from a whole count by a token per piece.
 */
export async function countPrompt(
  counter: TokenCounter,
  messages: CountableMessage[],
  options: { readonly model: string; readonly tools: unknown[] },
): Promise<number> {
  const texts = messages.flatMap(textsOf);
  if (texts.reduce((n, t) => n + t.length, 0) <= EXACT_UP_TO) return counter.countMessages(messages, options);
  const frames = messages.map((m) => ({
    ...m,
    content: '',
    ...(m.tool_calls
      ? { tool_calls: m.tool_calls.map((c) => ({ function: { name: c.function.name, arguments: '' } })) }
      : {}),
  }));
  let tokens = counter.countMessages(frames, options);
  let pieces = 0;
  for (const text of texts) {
    for (let i = 0; i < text.length; i += PIECE) {
      tokens += counter.countText(text.slice(i, i + PIECE), { model: options.model });
      if (++pieces % PIECES_PER_TURN === 0) await yieldToLoop();
    }
  }
  return tokens;
}

function textsOf(m: CountableMessage): string[] {
  const content = typeof m.content === 'string' ? [m.content] : (m.content ?? []).map((p) => p.text ?? '');
  return [...content, ...(m.tool_calls ?? []).map((c) => c.function.arguments)];
}
