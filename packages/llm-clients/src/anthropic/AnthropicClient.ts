/** An `LLMClient` on Anthropic's Messages API through the official `@anthropic-ai/sdk`. */
import Anthropic from '@anthropic-ai/sdk';
import { AbortError, checkOptions, optionRules, rule, type Usage } from '@tollgate/core';
import { Observable, type Subscriber } from 'rxjs';
import { apiKeyFrom } from '../apiKey.js';
import { CallDeadline } from '../callDeadline.js';
import { MalformedResponseError } from '../errors.js';
import type { QuotaExhaustionDetector } from '../quotaExhaustion.js';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  LLMClient,
  RateLimitInfo,
} from '../types.js';
import { anthropicError, anthropicQuotaExhaustion } from './errors.js';
import {
  type AnthropicUsageCounts,
  finishReasonOf,
  readContent,
  toAnthropicBody,
  usageOf,
} from './messages.js';
import { parseAnthropicRateLimitHeaders } from './rateLimitHeaders.js';

/** Options of {@link AnthropicClient}. */
export interface AnthropicClientOptions {
  /** The default model (`claude-sonnet-4-6`, ...). */
  readonly model: string;
  /**
   * Required here or in `ANTHROPIC_API_KEY`. Sent as `x-api-key`; never logged or put in errors.
   * @default process.env.ANTHROPIC_API_KEY
   */
  readonly apiKey?: string | undefined;
  /** Another endpoint speaking the Messages API (the simulator). @default Anthropic's */
  readonly baseURL?: string | undefined;
  /** A configured client. Its own retries are turned off. */
  readonly client?: Anthropic | undefined;
  /** How long a call (or a stream's silence) may last, ms. Greater than 0. @default 600_000 */
  readonly timeoutMs?: number | undefined;
  /** Names the provider in errors and metrics. @default 'anthropic' */
  readonly provider?: string | undefined;
  readonly defaultHeaders?: Readonly<Record<string, string>> | undefined;
  /** `max_tokens` of a request that sets none (Anthropic requires one). At least 1. @default 1_024 */
  readonly defaultMaxTokens?: number | undefined;
  /** Tells a spend limit from a rate limit in a 429's body. @default anthropicQuotaExhaustion */
  readonly quotaExhaustion?: QuotaExhaustionDetector | undefined;
}

/** Defaults of {@link AnthropicClientOptions}. */
export const ANTHROPIC_CLIENT_DEFAULTS = { timeoutMs: 600_000, defaultMaxTokens: 1_024 } as const;

/**
 * An `LLMClient` for Anthropic's Messages API: chat and streaming, tools, abort signals,
 * usage with cache reads and writes apart, and `anthropic-ratelimit-*` headers read into
 * `RateLimitInfo` (requests, tokens, input tokens, output tokens). The SDK's retries are
 * off (`maxRetries: 0`): retries belong to the governed client, so every attempt pays the toll.
 *
 * @example
 * const client = new AnthropicClient({ model: 'claude-sonnet-4-6', apiKey: process.env.ANTHROPIC_API_KEY });
 */
export class AnthropicClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly model: string;
  readonly #client: Anthropic;
  readonly #timeoutMs: number;
  readonly #maxTokens: number;
  readonly #quotaExhaustion: QuotaExhaustionDetector;

  /** @throws InvalidArgumentError naming every option out of range, or a missing key. */
  constructor(options: AnthropicClientOptions) {
    checkOptions(
      'AnthropicClient',
      { ...options, model: options?.model ?? null },
      {
        model: optionRules.string,
        apiKey: rule('a non-empty API key (or leave it out and set ANTHROPIC_API_KEY)', nonEmpty),
        baseURL: rule('an http(s) URL', (v) => typeof v === 'string' && /^https?:\/\/./.test(v)),
        client: rule('an Anthropic client', (v) => v instanceof Anthropic),
        timeoutMs: optionRules.positive,
        provider: optionRules.string,
        defaultHeaders: rule('a record of header values', (v) => typeof v === 'object' && v !== null),
        defaultMaxTokens: optionRules.positiveInt,
        quotaExhaustion: optionRules.function,
      },
    );
    this.model = options.model;
    this.provider = options.provider ?? 'anthropic';
    this.#timeoutMs = options.timeoutMs ?? ANTHROPIC_CLIENT_DEFAULTS.timeoutMs;
    this.#maxTokens = options.defaultMaxTokens ?? ANTHROPIC_CLIENT_DEFAULTS.defaultMaxTokens;
    this.#quotaExhaustion = options.quotaExhaustion ?? anthropicQuotaExhaustion;
    this.#client = options.client
      ? options.client.withOptions({ maxRetries: 0 })
      : new Anthropic({
          apiKey: apiKeyFrom(options.apiKey, ['ANTHROPIC_API_KEY'], 'anthropic()'),
          ...(options.baseURL ? { baseURL: options.baseURL } : {}),
          maxRetries: 0,
          timeout: this.#timeoutMs,
          ...(options.defaultHeaders ? { defaultHeaders: { ...options.defaultHeaders } } : {}),
        });
  }

  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const deadline = new CallDeadline(options.signal, this.#timeoutMs);
    const maxTokens = request.maxTokens ?? this.#maxTokens;
    try {
      const body = toAnthropicBody(request, request.model ?? this.model, maxTokens);
      const { data, response, request_id } = await this.#client.messages
        .create(body, { signal: deadline.signal })
        .withResponse();
      const requestId = request_id ?? undefined;
      const rateLimit = parseAnthropicRateLimitHeaders(response.headers);
      if (!Array.isArray(data?.content)) throw this.#malformed('the reply has no content', requestId);
      const { content, toolCalls } = readContent(data.content, (b) => this.#badToolCall(b, requestId));
      return {
        id: data.id,
        model: data.model,
        content,
        toolCalls,
        finishReason: finishReasonOf(data.stop_reason),
        usage: this.#usage(data.usage, requestId, maxTokens),
        ...(requestId ? { requestId } : {}),
        ...(rateLimit ? { rateLimit } : {}),
      };
    } catch (error) {
      throw anthropicError(error, deadline, this.provider, this.#quotaExhaustion);
    } finally {
      deadline.clear();
    }
  }

  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    return new Observable<ChatChunk>((subscriber) => {
      // Restarted at every event: `timeoutMs` is how long the stream may stay silent.
      const deadline = new CallDeadline(options.signal, this.#timeoutMs);
      this.#pump(request, deadline, subscriber).then(
        () => {
          deadline.clear();
          subscriber.complete();
        },
        (error: unknown) => {
          deadline.clear();
          subscriber.error(anthropicError(error, deadline, this.provider, this.#quotaExhaustion));
        },
      );
      return () => {
        deadline.clear();
        deadline.abort(new AbortError('stream unsubscribed'));
      };
    });
  }

  /** Streams one reply's events into `subscriber` as chunks. */
  async #pump(
    request: ChatRequest,
    deadline: CallDeadline,
    subscriber: Subscriber<ChatChunk>,
  ): Promise<void> {
    const maxTokens = request.maxTokens ?? this.#maxTokens;
    const body = toAnthropicBody(request, request.model ?? this.model, maxTokens);
    const { data, response, request_id } = await this.#client.messages
      .create({ ...body, stream: true }, { signal: deadline.signal })
      .withResponse();
    const requestId = request_id ?? undefined;
    const state = new StreamState(parseAnthropicRateLimitHeaders(response.headers), requestId);
    deadline.restart();
    for await (const event of data) {
      deadline.restart();
      const chunk = state.read(event, (u) => this.#usage(u, requestId, maxTokens));
      if (chunk && !subscriber.closed) subscriber.next(chunk);
    }
    // The SDK may end an aborted stream quietly: a timeout or an abort is still a failure.
    if (deadline.signal.aborted) throw deadline.signal.reason;
    if (!state.stopped) throw this.#malformed('the stream ended before message_stop', requestId);
  }

  #usage(u: AnthropicUsageCounts | undefined, requestId: string | undefined, maxTokens: number): Usage {
    const usage = usageOf(u, { provider: this.provider, requestId }, maxTokens);
    if (MalformedResponseError.is(usage)) throw usage;
    return usage;
  }

  #malformed(message: string, requestId: string | undefined): MalformedResponseError {
    return new MalformedResponseError(message, {
      provider: this.provider,
      ...(requestId ? { requestId } : {}),
    });
  }

  #badToolCall(block: unknown, requestId: string | undefined): MalformedResponseError {
    return this.#malformed(
      `the reply has a tool_use block without an id and a name: ${JSON.stringify(block)?.slice(0, 200)}`,
      requestId,
    );
  }
}

/**
 * What one streamed reply has said so far: its id and model (from `message_start`), the
 * prompt usage, and which content blocks are tool calls (numbered in order, as our
 * `toolCallDeltas` index them).
 */
class StreamState {
  stopped = false;
  #first = true;
  #start: AnthropicUsageCounts | undefined;
  readonly #toolIndex = new Map<number, number>();

  constructor(
    readonly rateLimit: RateLimitInfo | undefined,
    readonly requestId: string | undefined,
  ) {}

  /** The chunk an event makes, if any. */
  read(
    event: Anthropic.RawMessageStreamEvent,
    usage: (u: AnthropicUsageCounts) => Usage,
  ): ChatChunk | undefined {
    switch (event.type) {
      case 'message_start':
        this.#start = event.message.usage;
        return this.#head({ id: event.message.id, model: event.message.model });
      case 'content_block_start':
        if (event.content_block.type !== 'tool_use') return undefined;
        this.#toolIndex.set(event.index, this.#toolIndex.size);
        return this.#head({
          toolCallDeltas: [
            { index: this.#toolIndex.size - 1, id: event.content_block.id, name: event.content_block.name },
          ],
        });
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') return this.#head({ content: event.delta.text });
        if (event.delta.type !== 'input_json_delta') return undefined;
        return this.#head({
          toolCallDeltas: [
            { index: this.#toolIndex.get(event.index) ?? 0, arguments: event.delta.partial_json },
          ],
        });
      case 'message_delta':
        return this.#head({
          finishReason: finishReasonOf(event.delta.stop_reason),
          usage: usage({ ...this.#start, output_tokens: event.usage.output_tokens }),
        });
      case 'message_stop':
        this.stopped = true;
        return undefined;
      default:
        return undefined;
    }
  }

  /** `chunk`, with the request id and rate limits on the first one. */
  #head(chunk: ChatChunk): ChatChunk {
    if (!this.#first) return chunk;
    this.#first = false;
    return {
      ...chunk,
      ...(this.requestId ? { requestId: this.requestId } : {}),
      ...(this.rateLimit ? { rateLimit: this.rateLimit } : {}),
    };
  }
}

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

/**
 * An `AnthropicClient`.
 *
 * @example
 * createTollgateContainer({ provider: anthropic({ model: 'claude-sonnet-4-6' }) })
 */
export function anthropic(options: AnthropicClientOptions): AnthropicClient {
  return new AnthropicClient(options);
}
