// The simulator's generated replies: text of a token count and sample tool arguments.
import type { TokenCounter } from '@tollgate/core';
import type { Random } from './Random.js';

const WORDS = (
  'the agent reviewed sources and found that quota limits shape throughput while careful scheduling keeps ' +
  'every request inside its window so results arrive steadily with fewer retries lower cost and clear reports ' +
  'for teams that run many models across regions data pipelines research notes summaries and decisions'
).split(' ');

/** Token counts of each word as it appears in generated text, per counter. */
const pieceCounts = new WeakMap<TokenCounter, Map<string, number>>();

function countPiece(counter: TokenCounter, piece: string): number {
  let counts = pieceCounts.get(counter);
  if (!counts) {
    counts = new Map();
    pieceCounts.set(counter, counts);
  }
  let n = counts.get(piece);
  if (n === undefined) {
    n = counter.countText(piece);
    counts.set(piece, n);
  }
  return n;
}

/**
 * Text of about `targetTokens` tokens (never more than `maxTokens`), and its exact count.
 * The text is a capitalised word, then ` word` pieces: tokenizers split text into such
 * pieces before encoding, so the count is the sum of the pieces' counts, each counted once
 * per counter (re-counting the growing text made every reply quadratic).
 */
export function generateText(
  random: Random,
  counter: TokenCounter,
  targetTokens: number,
  maxTokens: number,
): { text: string; tokens: number; truncated: boolean } {
  const goal = Math.min(targetTokens, maxTokens);
  let text = '';
  let tokens = 0;
  while (tokens < goal) {
    const word = random.pick(WORDS);
    const piece = text ? ` ${word}` : word[0]!.toUpperCase() + word.slice(1);
    const count = tokens + countPiece(counter, piece);
    if (count > maxTokens) return { text, tokens, truncated: true };
    text += piece;
    tokens = count;
  }
  return { text, tokens, truncated: targetTokens > maxTokens };
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
}

/** Arguments that satisfy a tool's JSON schema: the required properties with plausible values. */
export function sampleArguments(schema: JsonSchema | undefined, random: Random): unknown {
  if (!schema) return {};
  if (schema.enum && schema.enum.length > 0) return random.pick(schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? Object.keys(schema.properties ?? {})) {
        out[key] = sampleArguments(schema.properties?.[key], random);
      }
      return out;
    }
    case 'array':
      return [sampleArguments(schema.items, random)];
    case 'number':
      return random.int(1, 100) / 4;
    case 'integer':
      return random.int(1, 100);
    case 'boolean':
      return random.chance(0.5);
    case 'string':
      return random.pick(WORDS);
    default:
      return null;
  }
}
