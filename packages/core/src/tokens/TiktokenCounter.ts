import { createRequire } from 'node:module';
import type { CountableMessage } from '../types.js';
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
 * Exact OpenAI token counts with tiktoken (WASM, shipped in the package: no network). The
 * module and each encoding load lazily on first use; one encoder per encoding is cached
 * and shared. Counting uses `encode_ordinary`, so text that looks like special tokens is
 * counted as the text it is.
 */
export class TiktokenCounter implements TokenCounter {
  readonly #defaultEncoding: EncodingName;
  readonly #encoders = new Map<EncodingName, Encoder>();
  #module: TiktokenModule | undefined;

  constructor(options: TiktokenCounterOptions = {}) {
    this.#defaultEncoding = options.defaultEncoding ?? 'o200k_base';
  }

  countText(text: string, options: CountOptions = {}): number {
    if (text.length === 0) return 0;
    return this.#encoder(encodingForModel(options.model, this.#defaultEncoding)).encode_ordinary(text).length;
  }

  countMessages(messages: readonly CountableMessage[], options: CountMessagesOptions = {}): number {
    const encoder = this.#encoder(encodingForModel(options.model, this.#defaultEncoding));
    return countChat(messages, options.tools, (t) =>
      t.length === 0 ? 0 : encoder.encode_ordinary(t).length,
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

  #encoder(name: EncodingName): Encoder {
    let encoder = this.#encoders.get(name);
    if (!encoder) {
      this.#module ??= createRequire(import.meta.url)('tiktoken') as TiktokenModule;
      encoder = this.#module.get_encoding(name);
      this.#encoders.set(name, encoder);
    }
    return encoder;
  }
}
