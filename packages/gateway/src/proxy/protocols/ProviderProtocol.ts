// What differs between the provider APIs the gateway forwards: auth headers, the token estimate, usage.
import type { CountableMessage, TokenCounter } from '@tollgate/core';

/** One request to forward, as the route read it. */
export interface ForwardRequest {
  /** The path under the upstream's base URL, with its query (`/chat/completions`, `/v1/messages`). */
  readonly path: string;
  /** The body, sent upstream unchanged. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly model: string;
  /** Headers of the client's request the API needs passed on (`anthropic-version`); never its key. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Token counts as a reply tells them; any may be missing. */
export interface RawUsage {
  readonly promptTokens?: unknown;
  readonly completionTokens?: unknown;
  readonly totalTokens?: unknown;
}

/** What a streamed reply said so far, read event by event. */
export interface StreamReading {
  text: string;
  usage: RawUsage | undefined;
  done: boolean;
}

/** How the gateway reads and sends one provider's API. */
export interface ProviderProtocol {
  /** `openai`, `anthropic` or `gemini`: also the token counter's provider. */
  readonly name: 'openai' | 'anthropic' | 'gemini';
  /** Headers carrying the gateway's provider key (and what the API requires besides). */
  authHeaders(apiKey: string): Record<string, string>;
  /** Headers the API requires, sent when the client's request named none of its own. @default none */
  readonly defaultHeaders?: Readonly<Record<string, string>> | undefined;
  /** The request's conversation, as the counter counts it, with its tools. */
  countable(request: ForwardRequest): { messages: CountableMessage[]; tools: unknown[] | undefined };
  /** The most output tokens the request allows, or `undefined` when it sets none. */
  maxOutputTokens(request: ForwardRequest): number | undefined;
  /** Usage of a whole (JSON) reply. */
  replyUsage(reply: unknown): RawUsage | undefined;
  /** Reads one streamed `data:` payload (parsed JSON) into `into`. */
  readStreamData(data: unknown, into: StreamReading): void;
  /** The bytes that close a stream the provider broke off, in the API's own error shape. */
  streamErrorEvent(error: { message: string; code: string }): string;
  /** Response headers passed to the client besides the content type. */
  readonly passedHeaders: readonly string[];
  /** A free `GET` (the model list) that answers 2xx when the provider is up and takes the key. */
  readonly healthPath: string;
}

/** Prompt tokens of `request` as `counter` counts them. */
export function countPrompt(
  protocol: ProviderProtocol,
  request: ForwardRequest,
  counter: TokenCounter,
): number {
  const { messages, tools } = protocol.countable(request);
  return counter.countMessages(messages, { model: request.model, tools });
}

/** `value` as a list of objects, or empty. */
export const objects = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value)
    ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null)
    : [];

/** `value` as an object, or empty. */
export const object = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
