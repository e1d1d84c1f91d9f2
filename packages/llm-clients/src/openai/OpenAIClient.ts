// An LLMClient on the official openai package: OpenAI, Azure OpenAI and any compatible endpoint.
import { AbortError, checkOptions, InvalidArgumentError, optionRules, rule } from '@tollgate/core';
import OpenAI, { AzureOpenAI } from 'openai';
import { Observable, type Subscriber } from 'rxjs';
import { CallDeadline } from '../callDeadline.js';
import { parseRateLimitHeaders } from '../headers.js';
import {
  anyQuotaExhaustion,
  geminiQuotaExhaustion,
  openAIQuotaExhaustion,
  type QuotaExhaustionDetector,
} from '../quotaExhaustion.js';
import type { CallOptions, ChatChunk, ChatRequest, ChatResponse, LLMClient } from '../types.js';
import { toProviderError } from './errorMapping.js';
import { type ReplyContext, toChatChunk, toChatResponse } from './replies.js';
import { toRequestBody } from './requestBody.js';

/** Options of {@link OpenAIClient}. */
export interface OpenAIClientOptions {
  /** The default model (or Azure deployment). */
  readonly model: string;
  /**
   * Required here or in `OPENAI_API_KEY`; endpoints without keys take any non-empty string.
   * @default process.env.OPENAI_API_KEY
   * @throws InvalidArgumentError from the constructor when neither is set.
   */
  readonly apiKey?: string | undefined;
  /** Any OpenAI-compatible endpoint: Gemini's, vLLM, Ollama, the simulator. @default OpenAI's */
  readonly baseURL?: string | undefined;
  /** A configured client (an `AzureOpenAI`, say). Its own retries are turned off. */
  readonly client?: OpenAI | undefined;
  /** Per-request HTTP timeout, ms. Greater than 0. @default 600_000 */
  readonly timeoutMs?: number | undefined;
  /** Names the provider in errors and metrics. @default 'openai' */
  readonly provider?: string | undefined;
  readonly defaultHeaders?: Readonly<Record<string, string>> | undefined;
  /**
   * Tells a used-up quota from a rate limit in a 429's body: such a 429 becomes a
   * `QuotaExhaustedError` (never retried) instead of a `ProviderRateLimitError`.
   * @default OpenAI's codes (`insufficient_quota`, spend limits) and Gemini's per-day quotas
   */
  readonly quotaExhaustion?: QuotaExhaustionDetector | undefined;
}

const isObject = (v: unknown) => typeof v === 'object' && v !== null;

/**
 * An `LLMClient` on the official `openai` package, for OpenAI, Azure OpenAI and any
 * OpenAI-compatible endpoint. The SDK's retries are off (`maxRetries: 0`): retries belong
 * to the governed client, so every attempt pays the toll. Connections are reused
 * (keep-alive is the default of Node's fetch).
 *
 * @example
 * const client = new OpenAIClient({ model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY });
 */
export class OpenAIClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly model: string;
  readonly #client: OpenAI;
  readonly #quotaExhaustion: QuotaExhaustionDetector;
  readonly #timeoutMs: number;

  /** @throws InvalidArgumentError naming every option out of range. */
  constructor(options: OpenAIClientOptions) {
    // `model` is required: a missing one is reported like a wrong one.
    checkOptions(
      'OpenAIClient',
      { ...options, model: options?.model ?? null },
      {
        model: optionRules.string,
        apiKey: rule(
          'a non-empty API key (or leave it out and set OPENAI_API_KEY; any non-empty string for endpoints without keys)',
          (v) => typeof v === 'string' && v.length > 0,
        ),
        baseURL: rule('an http(s) URL', (v) => typeof v === 'string' && /^https?:\/\/./.test(v)),
        client: rule('an OpenAI client', (v) => v instanceof OpenAI),
        timeoutMs: optionRules.positive,
        provider: optionRules.string,
        defaultHeaders: rule('a record of header values', isObject),
        quotaExhaustion: optionRules.function,
      },
    );
    this.#quotaExhaustion =
      options.quotaExhaustion ?? anyQuotaExhaustion(openAIQuotaExhaustion, geminiQuotaExhaustion);
    this.model = options.model;
    this.provider = options.provider ?? 'openai';
    this.#client = options.client
      ? options.client.withOptions({ maxRetries: 0 })
      : new OpenAI({
          apiKey: apiKeyOf(options),
          baseURL: options.baseURL,
          maxRetries: 0,
          timeout: options.timeoutMs,
          defaultHeaders: options.defaultHeaders,
        });
    this.#timeoutMs = options.timeoutMs ?? this.#client.timeout;
  }

  /** Sends one chat completions request; its reply, or a typed error. */
  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    // The SDK's timeout ends at the response headers: this one covers the body too.
    const deadline = new CallDeadline(options.signal, this.#timeoutMs);
    try {
      const { data, response, request_id } = await this.#client.chat.completions
        .create(toRequestBody(request, this.model), { signal: deadline.signal })
        .withResponse();
      return toChatResponse(data, {
        provider: this.provider,
        requestId: request_id ?? undefined,
        rateLimit: parseRateLimitHeaders(response.headers),
        maxTokens: request.maxTokens,
      });
    } catch (error) {
      throw this.#error(deadline.explain(error));
    } finally {
      deadline.clear();
    }
  }

  /** Streams one chat completions request, with a final usage chunk. */
  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    return new Observable<ChatChunk>((subscriber) => {
      // Restarted at every chunk: `timeoutMs` is how long the stream may stay silent.
      const deadline = new CallDeadline(options.signal, this.#timeoutMs);
      this.#streamInto(request, deadline, subscriber).catch((error: unknown) => {
        deadline.clear();
        subscriber.error(this.#error(deadline.explain(error)));
      });
      return () => {
        deadline.clear();
        deadline.abort(new AbortError('stream unsubscribed'));
      };
    });
  }

  async #streamInto(
    request: ChatRequest,
    deadline: CallDeadline,
    subscriber: Subscriber<ChatChunk>,
  ): Promise<void> {
    const { data, response, request_id } = await this.#client.chat.completions
      .create(
        { ...toRequestBody(request, this.model), stream: true, stream_options: { include_usage: true } },
        { signal: deadline.signal },
      )
      .withResponse();
    const headersAt = performance.now();
    const rateLimit = parseRateLimitHeaders(response.headers);
    let ctx: ReplyContext = {
      provider: this.provider,
      requestId: request_id ?? undefined,
      rateLimit,
      maxTokens: request.maxTokens,
    };
    let first = true;
    deadline.restart();
    for await (const chunk of data) {
      deadline.restart();
      // The first chunk tells how long before it the provider had the call: its processing
      // time when the headers left, plus the wait for the chunk since they arrived.
      if (first && rateLimit?.processingMs !== undefined)
        ctx = {
          ...ctx,
          rateLimit: { ...rateLimit, processingMs: rateLimit.processingMs + performance.now() - headersAt },
        };
      const out = toChatChunk(chunk, first, ctx);
      first = false;
      subscriber.next(out);
    }
    // The SDK ends an aborted stream quietly: a timeout or an abort is still a failure.
    if (deadline.signal.aborted) throw deadline.signal.reason;
    deadline.clear();
    subscriber.complete();
  }

  #error(error: unknown): Error {
    return toProviderError(error, this.provider, this.#quotaExhaustion);
  }
}

function apiKeyOf(options: OpenAIClientOptions): string {
  const key = options.apiKey ?? process.env.OPENAI_API_KEY;
  if (key) return key;
  throw new InvalidArgumentError(
    'apiKey',
    'an API key, from the `apiKey` option of openai() or the OPENAI_API_KEY environment variable (any non-empty string for endpoints without keys)',
    key,
  );
}

/** An `OpenAIClient` for an Azure OpenAI deployment. */
export function azureOpenAI(options: {
  readonly endpoint: string;
  readonly deployment: string;
  readonly apiVersion: string;
  readonly apiKey?: string | undefined;
}): OpenAIClient {
  const client = new AzureOpenAI({
    endpoint: options.endpoint,
    deployment: options.deployment,
    apiVersion: options.apiVersion,
    apiKey: options.apiKey ?? process.env.AZURE_OPENAI_API_KEY,
  });
  return new OpenAIClient({ model: options.deployment, client, provider: 'azure-openai' });
}

/**
 * An `OpenAIClient`: OpenAI itself, or any OpenAI-compatible endpoint by `baseURL`.
 *
 * @example
 * createTollgateContainer({ provider: openai({ model: 'gpt-4o-mini', apiKey }) })
 */
export function openai(options: OpenAIClientOptions): OpenAIClient {
  return new OpenAIClient(options);
}
