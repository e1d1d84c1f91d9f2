// TiktokenCounter: exact token counts with tiktoken's encodings, chosen by model.
import { createRequire } from 'node:module';
import type { CountableMessage } from '../types.js';
import { boundedCount } from './boundedCount.js';
import { TokenCountError } from './TokenCountError.js';
import {
  type CountMessagesOptions,
  type CountOptions,
  countChat,
  type TokenCounter,
} from './TokenCounter.js';

/** The encodings tiktoken ships. */
export type EncodingName = 'o200k_base' | 'cl100k_base' | 'p50k_base' | 'r50k_base';

interface Encoder {
  encode_ordinary(text: string): Uint32Array;
  free(): void;
}

type TiktokenModule = { get_encoding(name: EncodingName): Encoder };

/** Model name prefixes and their encodings; first match wins. */
const MODEL_ENCODINGS: ReadonlyArray<readonly [string, EncodingName]> = [
  ['gpt-4o', 'o200k_base'],
  ['gpt-4.1', 'o200k_base'],
  ['gpt-4.5', 'o200k_base'],
  ['gpt-5', 'o200k_base'],
  ['o1', 'o200k_base'],
  ['o3', 'o200k_base'],
  ['o4', 'o200k_base'],
  ['chatgpt-4o', 'o200k_base'],
  ['gpt-4', 'cl100k_base'],
  ['gpt-3.5', 'cl100k_base'],
  ['gpt-35', 'cl100k_base'],
  ['text-embedding-3', 'cl100k_base'],
  ['text-embedding-ada', 'cl100k_base'],
  ['text-davinci', 'p50k_base'],
  ['davinci', 'r50k_base'],
];

/** The encoding tiktoken uses for `model`; other providers' models get `fallback`. */
export function encodingForModel(
  model: string | undefined,
  fallback: EncodingName = 'o200k_base',
): EncodingName {
  if (!model) return fallback;
  const name = model.toLowerCase().replace(/^.*\//, '');
  for (const [prefix, encoding] of MODEL_ENCODINGS) if (name.startsWith(prefix)) return encoding;
  return fallback;
}

/** Options of {@link TiktokenCounter}. */
export interface TiktokenCounterOptions {
  /** Encoding for models it does not know (Gemini, Llama, the simulator...). @default 'o200k_base' */
  readonly defaultEncoding?: EncodingName | undefined;
}

/**
 * OpenAI token counts with tiktoken (WASM, shipped in the package: no network). The
 * module and each encoding load lazily on first use (about a second; {@link warm} starts
 * it early); one encoder per encoding is cached and shared. Counting uses
 * `encode_ordinary`, so text that looks like special tokens is counted as the text it is.
 *
 * Counts are exact for ordinary text. The cost stays linear and bounded for any input: a
 * run of one character class over 128 characters (a long word, a CJK paragraph, one letter
 * repeated) is counted in 128-character pieces, within about a token per piece; text over
 * 256 Ki characters is estimated from evenly spaced samples.
 */
export class TiktokenCounter implements TokenCounter {
  readonly #defaultEncoding: EncodingName;
  readonly #encoders = new Map<EncodingName, Encoder>();
  #module: TiktokenModule | undefined;

  constructor(options: TiktokenCounterOptions = {}) {
    this.#defaultEncoding = options.defaultEncoding ?? 'o200k_base';
  }

  /** @throws TokenCountError when the tokenizer cannot load or count. */
  countText(text: string, options: CountOptions = {}): number {
    if (text.length === 0) return 0;
    return this.#counter(options)(text);
  }

  /** @throws TokenCountError when the tokenizer cannot load or count. */
  countMessages(messages: readonly CountableMessage[], options: CountMessagesOptions = {}): number {
    return countChat(messages, options.tools, this.#counter(options));
  }

  /**
   * Loads the encoding for `options.model` on a later turn of the event loop, so a first
   * count does not pay for it. The load itself still runs on this thread. Never rejects: a
   * failure to load surfaces as a `TokenCountError` from the next count.
   *
   * @example
   * void counter.warm({ model: 'gpt-4o-mini' }); // while the app starts up
   */
  warm(options: CountOptions = {}): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        try {
          this.#encoder(encodingForModel(options.model, this.#defaultEncoding));
        } catch {
          // Reported by the next count.
        }
        resolve();
      }),
    );
  }

  /** Encodings loaded so far. */
  get loadedEncodings(): readonly EncodingName[] {
    return [...this.#encoders.keys()];
  }

  /** Frees the WASM memory of every loaded encoder. The counter reloads them if used again. */
  dispose(): void {
    for (const encoder of this.#encoders.values()) encoder.free();
    this.#encoders.clear();
  }

  /** A counting function for the encoding of `options.model`, failures typed. */
  #counter(options: CountOptions): (text: string) => number {
    const name = encodingForModel(options.model, this.#defaultEncoding);
    const encoder = this.#encoder(name);
    return (text) => {
      try {
        return boundedCount(text, (piece) => encoder.encode_ordinary(piece).length);
      } catch (error) {
        // A trapped WASM instance may be left in any state: drop it, the next count reloads.
        this.#encoders.delete(name);
        throw new TokenCountError(name, error);
      }
    };
  }

  #encoder(name: EncodingName): Encoder {
    let encoder = this.#encoders.get(name);
    if (!encoder) {
      try {
        this.#module ??= createRequire(import.meta.url)('tiktoken') as TiktokenModule;
        encoder = this.#module.get_encoding(name);
      } catch (error) {
        throw new TokenCountError(name, error);
      }
      this.#encoders.set(name, encoder);
    }
    return encoder;
  }
}
