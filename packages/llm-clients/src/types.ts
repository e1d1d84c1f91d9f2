// The shapes of LLM clients: messages, tools, requests, replies, chunks and the LLMClient interface.
import type { Usage } from '@tollgate/core';
import type { Observable } from 'rxjs';

/** A tool call the model asked for. `arguments` is the raw JSON text the model wrote. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** One message of a conversation, in the shape every OpenAI-compatible provider takes. */
export type ChatMessage =
  | { readonly role: 'system' | 'user'; readonly content: string; readonly name?: string | undefined }
  | {
      readonly role: 'assistant';
      readonly content: string | null;
      readonly toolCalls?: readonly ToolCall[] | undefined;
    }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string };

/** A tool offered to the model; `parameters` is a JSON schema. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string | undefined;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** A chat request. Provider-neutral; clients translate it. */
export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  /** @default the client's model */
  readonly model?: string | undefined;
  readonly tools?: readonly ToolDefinition[] | undefined;
  /** `'auto'`, `'none'`, `'required'` or the name of one tool. */
  readonly toolChoice?: 'auto' | 'none' | 'required' | { readonly name: string } | undefined;
  /** Most output tokens. The governed client always sets it, since providers charge it up front. */
  readonly maxTokens?: number | undefined;
  readonly temperature?: number | undefined;
}

/** What a provider's rate-limit headers said, where it sent them. */
export interface RateLimitInfo {
  readonly limitRequests?: number | undefined;
  readonly remainingRequests?: number | undefined;
  readonly resetRequestsMs?: number | undefined;
  readonly limitTokens?: number | undefined;
  readonly remainingTokens?: number | undefined;
  readonly resetTokensMs?: number | undefined;
  /** Input-token limit, for providers that limit input and output apart (Anthropic's ITPM). */
  readonly limitInputTokens?: number | undefined;
  readonly remainingInputTokens?: number | undefined;
  readonly resetInputTokensMs?: number | undefined;
  /** Output-token limit (Anthropic's OTPM). */
  readonly limitOutputTokens?: number | undefined;
  readonly remainingOutputTokens?: number | undefined;
  readonly resetOutputTokensMs?: number | undefined;
  /**
   * How long the provider says it had been processing the request when its reply's headers
   * left (OpenAI's `openai-processing-ms`): it counted the call at least this long before
   * they arrived. The provider governor's hold then ends as of that instant (see
   * `GovernorLease.endHold`), clamped to the time since the call's grant.
   */
  readonly processingMs?: number | undefined;
}

/** A complete reply. */
export interface ChatResponse {
  readonly id: string;
  readonly model: string;
  /** The assistant's text (`null` when it only called tools). */
  readonly content: string | null;
  readonly toolCalls: readonly ToolCall[];
  readonly finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';
  readonly usage: Usage;
  /** The provider's request id, for support tickets. */
  readonly requestId?: string | undefined;
  readonly rateLimit?: RateLimitInfo | undefined;
}

/** A piece of a streamed reply. The last chunk carries `usage` when the provider reports it. */
export interface ChatChunk {
  /** The reply's id, model and the provider's request id, on the first chunk where sent. */
  readonly id?: string | undefined;
  readonly model?: string | undefined;
  readonly requestId?: string | undefined;
  readonly content?: string | undefined;
  /** Tool call fragments as the provider streams them, by index. */
  readonly toolCallDeltas?:
    | ReadonlyArray<{
        readonly index: number;
        readonly id?: string | undefined;
        readonly name?: string | undefined;
        readonly arguments?: string | undefined;
      }>
    | undefined;
  readonly finishReason?: ChatResponse['finishReason'] | undefined;
  readonly usage?: Usage | undefined;
  readonly rateLimit?: RateLimitInfo | undefined;
}

/** Options of one call. */
export interface CallOptions {
  /** Aborts the HTTP call (a task timeout arrives here). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A language model behind a provider. Small and provider-neutral; `specificationVersion`
 * lets the interface evolve without breaking implementations silently.
 */
export interface LLMClient {
  readonly specificationVersion: 'v1';
  /** `openai`, `azure-openai`, `scripted`, ... Used in errors and metrics. */
  readonly provider: string;
  /** The default model. */
  readonly model: string;
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>;
  stream(request: ChatRequest, options?: CallOptions): Observable<ChatChunk>;
}
