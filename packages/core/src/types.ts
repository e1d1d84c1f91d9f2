/** Tokens used by one LLM call (or summed over many). */
export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  /** Prompt tokens read from the provider's prompt cache (included in `promptTokens`), where reported. */
  readonly cacheReadTokens?: number | undefined;
  /** Prompt tokens written to the provider's prompt cache (included in `promptTokens`), where reported. */
  readonly cacheWriteTokens?: number | undefined;
}

/** A usage of zero. */
export const EMPTY_USAGE: Usage = Object.freeze({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });

/** Sums two usages; the cache counts are summed where either reports them (a missing one counts 0). */
export function addUsage(a: Usage, b: Usage): Usage {
  const cacheReadTokens = sumReported(a.cacheReadTokens, b.cacheReadTokens);
  const cacheWriteTokens = sumReported(a.cacheWriteTokens, b.cacheWriteTokens);
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...(cacheReadTokens !== undefined ? { cacheReadTokens } : {}),
    ...(cacheWriteTokens !== undefined ? { cacheWriteTokens } : {}),
  };
}

function sumReported(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

/** The parts of a chat message that count toward its token cost. */
export interface CountableMessage {
  readonly role: string;
  readonly content?:
    | string
    | null
    | ReadonlyArray<{ readonly type: string; readonly text?: string | undefined }>
    | undefined;
  readonly name?: string | undefined;
  readonly tool_calls?:
    | ReadonlyArray<{
        readonly function: { readonly name: string; readonly arguments: string };
      }>
    | undefined;
  readonly tool_call_id?: string | undefined;
}
