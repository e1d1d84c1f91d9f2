// The parts of an OpenAI chat completion request the gateway reads, and its token estimate.
import type { CountableMessage, TokenCounter } from '@tollgate/core';

/** A chat completion request body as sent by OpenAI clients (the gateway reads only these fields). */
export interface ChatCompletionBody {
  readonly model: string;
  readonly messages: readonly CountableMessage[];
  readonly max_tokens?: number | null;
  readonly max_completion_tokens?: number | null;
  readonly stream?: boolean | null;
  readonly tools?: readonly unknown[];
  readonly [field: string]: unknown;
}

/** The output tokens a request may produce: its `max_completion_tokens`, `max_tokens`, or the default. */
export function maxOutputTokens(body: ChatCompletionBody, defaultMaxTokens: number): number {
  return body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens;
}

/** Prompt tokens as counted before the call (the provider's own count settles it after). */
export function promptTokens(body: ChatCompletionBody, counter: TokenCounter): number {
  return counter.countMessages(body.messages, {
    model: body.model,
    tools: body.tools ? [...body.tools] : undefined,
  });
}
