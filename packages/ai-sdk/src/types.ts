// The AI SDK shapes this package works with, taken from the installed `ai` (its peer).
import type { LanguageModelMiddleware } from 'ai';

type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;

/** The parameters of one language-model call (the AI SDK's `LanguageModelV3CallOptions`). */
export type ModelCallOptions = Parameters<WrapGenerate>[0]['params'];
/** The model a middleware wraps (`LanguageModelV3`). */
export type WrappedModel = Parameters<WrapGenerate>[0]['model'];
/** What a model's `doGenerate` returns. */
export type ModelGenerateResult = Awaited<ReturnType<WrapGenerate>>;
/** What a model's `doStream` returns. */
export type ModelStreamResult = Awaited<ReturnType<Parameters<WrapStream>[0]['doStream']>>;
/** One part of a model's stream (text deltas, tool calls, `finish` with usage, `error`). */
export type ModelStreamPart = ModelStreamResult['stream'] extends ReadableStream<infer P> ? P : never;
/** A model's usage report: input (with cache reads and writes) and output tokens. */
export type ModelUsage = ModelGenerateResult['usage'];
/** The prompt of one call, in the AI SDK's model-level shape. */
export type ModelPrompt = ModelCallOptions['prompt'];
