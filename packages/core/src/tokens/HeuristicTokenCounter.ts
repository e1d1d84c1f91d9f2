// HeuristicTokenCounter: a cheap estimate of tokens from characters, no encoder loaded.
import type { CountableMessage } from '../types.js';
import { type CountMessagesOptions, countChat, type TokenCounter } from './TokenCounter.js';

/**
 * A cheap counter for when exactness does not matter: about four characters per token
 * for English text, rounded up. No encoder is loaded.
 */
export class HeuristicTokenCounter implements TokenCounter {
  readonly #charsPerToken: number;

  /** @param charsPerToken average characters per token. @default 4 */
  constructor(charsPerToken = 4) {
    this.#charsPerToken = charsPerToken;
  }

  countText(text: string): number {
    return Math.ceil(text.length / this.#charsPerToken);
  }

  countMessages(messages: readonly CountableMessage[], options: CountMessagesOptions = {}): number {
    return countChat(messages, options.tools, (t) => this.countText(t));
  }
}
