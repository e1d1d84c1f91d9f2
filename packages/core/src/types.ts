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

/** Sums two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
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
