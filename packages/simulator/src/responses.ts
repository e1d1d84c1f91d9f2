import type { TokenCounter } from '@tollgate/core';
import type { Random } from './Random.js';

const WORDS = (
  'the agent reviewed sources and found that quota limits shape throughput while careful scheduling keeps ' +
  'every request inside its window so results arrive steadily with fewer retries lower cost and clear reports ' +
  'for teams that run many models across regions data pipelines research notes summaries and decisions'
).split(' ');

/** Text of about `targetTokens` tokens (never more than `maxTokens`), and its exact count. */
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
    const next = text ? `${text} ${word}` : word[0]!.toUpperCase() + word.slice(1);
    const count = counter.countText(next);
    if (count > maxTokens) return { text, tokens, truncated: true };
    text = next;
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
