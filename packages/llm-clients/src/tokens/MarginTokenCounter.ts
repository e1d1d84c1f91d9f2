/** Token estimates for providers whose tokenizer is not public: the largest of some counts, plus a margin. */
import {
  type CountableMessage,
  type CountMessagesOptions,
  type CountOptions,
  checkOptions,
  rule,
  TiktokenCounter,
  type TokenCounter,
} from '@tollgate/core';

/** Options of {@link MarginTokenCounter}. */
export interface MarginTokenCounterOptions {
  /** Counters whose largest count is taken. At least one. */
  readonly counters: readonly TokenCounter[];
  /** The largest count is multiplied by this and rounded up. At least 1. @default 1.1 */
  readonly factor?: number | undefined;
}

/**
 * Estimates a provider's token count from counters that approximate its tokenizer: the
 * largest of their counts times `factor`, rounded up. Reservations are corrected with the
 * provider's reported usage afterwards, so an estimate needs to be on the high side, not exact.
 */
export class MarginTokenCounter implements TokenCounter {
  readonly #counters: readonly TokenCounter[];
  readonly #factor: number;

  /** @throws InvalidArgumentError naming an option out of range. */
  constructor(options: MarginTokenCounterOptions) {
    checkOptions(
      'MarginTokenCounter',
      { ...options, counters: options?.counters ?? null },
      {
        counters: rule(
          'a non-empty array of TokenCounters',
          (v) => Array.isArray(v) && v.length > 0 && v.every((c) => typeof c?.countMessages === 'function'),
        ),
        factor: rule(
          'a finite number of at least 1',
          (v) => typeof v === 'number' && Number.isFinite(v) && v >= 1,
        ),
      },
    );
    this.#counters = options.counters;
    this.#factor = options.factor ?? 1.1;
  }

  countText(text: string, options?: CountOptions): number {
    return this.#scaled((c) => c.countText(text, options));
  }

  countMessages(messages: readonly CountableMessage[], options?: CountMessagesOptions): number {
    return this.#scaled((c) => c.countMessages(messages, options));
  }

  #scaled(count: (counter: TokenCounter) => number): number {
    return Math.ceil(Math.max(...this.#counters.map(count)) * this.#factor);
  }
}

/**
 * The margin of {@link anthropicTokenCounter} over the larger of tiktoken's `o200k_base` and
 * `cl100k_base` counts. Measured on the simulator's fixtures (prose, code, JSON, CJK,
 * numbers, conversations; its Anthropic route counts with `cl100k_base`): never under the
 * reported count, over it by 10-16%, and by up to 40% when tool definitions are sent
 * (they are counted in OpenAI's longer JSON shape).
 */
export const ANTHROPIC_TOKEN_MARGIN = 1.1;

/**
 * The margin of {@link geminiTokenCounter} over tiktoken's `o200k_base` count. Measured on
 * the simulator's fixtures: never under the reported count, over it by 10-16%, and by up to
 * 40% when tool definitions are sent.
 */
export const GEMINI_TOKEN_MARGIN = 1.1;

/**
 * An estimator for Claude models, whose tokenizer is not public: the larger of two public
 * BPE counts (`o200k_base`, `cl100k_base`; they differ most on CJK text and code) plus
 * {@link ANTHROPIC_TOKEN_MARGIN}.
 */
export function anthropicTokenCounter(): TokenCounter {
  return new MarginTokenCounter({
    counters: [new TiktokenCounter(), new TiktokenCounter({ defaultEncoding: 'cl100k_base' })],
    factor: ANTHROPIC_TOKEN_MARGIN,
  });
}

/** An estimator for Gemini models: tiktoken's `o200k_base` count plus {@link GEMINI_TOKEN_MARGIN}. */
export function geminiTokenCounter(): TokenCounter {
  return new MarginTokenCounter({ counters: [new TiktokenCounter()], factor: GEMINI_TOKEN_MARGIN });
}

/** The estimator for a provider: tiktoken for OpenAI (and compatible endpoints), the margin counters for Anthropic and Gemini. */
export function tokenCounterFor(provider: string): TokenCounter {
  if (provider === 'anthropic') return anthropicTokenCounter();
  if (provider === 'gemini') return geminiTokenCounter();
  return new TiktokenCounter();
}
