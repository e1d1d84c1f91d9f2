// Model prices per million tokens (the defaults, by model name) and what a usage costs in US dollars.
import type { Usage } from '@tollgate/core';

/** What a model costs, in US dollars per million tokens. */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** Prices by model name. A name also prices its dated variants (`gpt-4o-mini` prices `gpt-4o-mini-2024-07-18`). */
export type PricingTable = Readonly<Record<string, ModelPrice>>;

/**
 * Public list prices of common models when this table was written. Prices change and
 * contracts differ: pass your own table (it is merged over this one) for numbers you can
 * bill on. Unknown models cost 0 and are reported as unpriced.
 */
export const DEFAULT_PRICING: PricingTable = Object.freeze({
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  'o3-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  'gpt-3.5-turbo': { inputPerMillion: 0.5, outputPerMillion: 1.5 },
  'gemini-2.0-flash': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
});

/** The price of `model`: an exact entry, else the longest entry it starts with (`name-…`). */
export function priceOf(model: string, table: PricingTable = DEFAULT_PRICING): ModelPrice | undefined {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const name of Object.keys(table))
    if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
  return best === undefined ? undefined : table[best];
}

/** Dollars for `usage` on `model`; 0 when the model has no price. */
export function costOf(model: string, usage: Usage, table: PricingTable = DEFAULT_PRICING): number {
  const price = priceOf(model, table);
  if (!price) return 0;
  return (usage.promptTokens * price.inputPerMillion + usage.completionTokens * price.outputPerMillion) / 1e6;
}
