import {
  AbortError,
  checkOptions,
  InvalidArgumentError,
  optionRules,
  rule,
  type Usage,
} from '@tollgate/core';
import OpenAI, { AzureOpenAI } from 'openai';
import { Observable } from 'rxjs';
import {
  MalformedResponseError,
  ProviderConnectionError,
  ProviderError,
  ProviderRateLimitError,
  QuotaExhaustedError,
} from '../errors.js';
import { parseRateLimitHeaders, retryAfterMs } from '../headers.js';
import {
  anyQuotaExhaustion,
  geminiQuotaExhaustion,
  openAIQuotaExhaustion,
  type QuotaExhaustionDetector,
} from '../quotaExhaustion.js';
import type {
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  LLMClient,
  ToolCall,
} from '../types.js';
import { readUsage } from '../usage.js';

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

type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;

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

  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    // The SDK's timeout ends at the response headers: this one covers the body too.
    const deadline = new Deadline(options.signal, this.#timeoutMs);
    try {
      const { data, response, request_id } = await this.#client.chat.completions
        .create(this.#body(request), { signal: deadline.signal })
        .withResponse();
      return this.#response(
        data,
        request_id ?? undefined,
        parseRateLimitHeaders(response.headers),
        request.maxTokens,
      );
    } catch (error) {
      throw this.#error(deadline.explain(error));
    } finally {
      deadline.clear();
    }
  }

  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    return new Observable<ChatChunk>((subscriber) => {
      // Restarted at every chunk: `timeoutMs` is how long the stream may stay silent.
      const deadline = new Deadline(options.signal, this.#timeoutMs);
      (async () => {
        const {
          data: stream,
          response,
          request_id: requestId,
        } = await this.#client.chat.completions
          .create(
            { ...this.#body(request), stream: true, stream_options: { include_usage: true } },
            { signal: deadline.signal },
          )
          .withResponse();
        const rateLimit = parseRateLimitHeaders(response.headers);
        let first = true;
        deadline.restart();
        for await (const chunk of stream) {
          deadline.restart();
          const choice = chunk.choices[0];
          const out: ChatChunk = {
            ...(first ? { id: chunk.id, model: chunk.model, ...(requestId ? { requestId } : {}) } : {}),
            ...(choice?.delta.content ? { content: choice.delta.content } : {}),
            ...(choice?.delta.tool_calls
              ? {
                  toolCallDeltas: choice.delta.tool_calls.map((d) => ({
                    ...this.#checkedDelta(d, requestId ?? undefined),
                    index: d.index,
                    ...(d.id ? { id: d.id } : {}),
                    ...(d.function?.name ? { name: d.function.name } : {}),
                    ...(d.function?.arguments ? { arguments: d.function.arguments } : {}),
                  })),
                }
              : {}),
            ...(choice?.finish_reason ? { finishReason: finishReason(choice.finish_reason) } : {}),
            ...(chunk.usage
              ? { usage: this.#usage(chunk.usage, requestId ?? undefined, request.maxTokens) }
              : {}),
            ...(first && rateLimit ? { rateLimit } : {}),
          };
          first = false;
          subscriber.next(out);
        }
        // The SDK ends an aborted stream quietly: a timeout or an abort is still a failure.
        if (deadline.signal.aborted) throw deadline.signal.reason;
        deadline.clear();
        subscriber.complete();
      })().catch((error: unknown) => {
        deadline.clear();
        subscriber.error(this.#error(deadline.explain(error)));
      });
      return () => {
        deadline.clear();
        deadline.abort(new AbortError('stream unsubscribed'));
      };
    });
  }

  #body(request: ChatRequest): Body {
    return {
      model: request.model ?? this.model,
      messages: request.messages.map(toOpenAIMessage),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map((t) => ({
              type: 'function' as const,
              function: {
                name: t.name,
                ...(t.description ? { description: t.description } : {}),
                parameters: { ...t.parameters },
              },
            })),
          }
        : {}),
      ...(request.toolChoice
        ? {
            tool_choice:
              typeof request.toolChoice === 'string'
                ? request.toolChoice
                : { type: 'function' as const, function: { name: request.toolChoice.name } },
          }
        : {}),
    };
  }

  #response(
    data: OpenAI.ChatCompletion,
    requestId: string | undefined,
    rateLimit: ChatResponse['rateLimit'],
    maxTokens: number | undefined,
  ): ChatResponse {
    const choice = data?.choices?.[0];
    if (!choice?.message)
      throw new MalformedResponseError('the reply has no choices', { provider: this.provider, requestId });
    const toolCalls: ToolCall[] = [];
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== 'function') continue;
      const { id, function: fn } = call as {
        id: unknown;
        function?: { name?: unknown; arguments?: unknown };
      };
      if (
        typeof id !== 'string' ||
        typeof fn?.name !== 'string' ||
        !fn.name ||
        typeof fn.arguments !== 'string'
      ) {
        throw this.#badToolCall(call, requestId);
      }
      toolCalls.push({ id, name: fn.name, arguments: fn.arguments });
    }
    return {
      id: data.id,
      model: data.model,
      content: choice.message.content ?? null,
      toolCalls,
      finishReason: finishReason(choice.finish_reason),
      usage: this.#usage(data.usage, requestId, maxTokens),
      ...(requestId ? { requestId } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    };
  }

  /**
   * Nothing for a streamed tool-call fragment whose id, name and arguments are strings where
   * present (a `null` is taken as absent); throws `MalformedResponseError` otherwise.
   */
  #checkedDelta(
    delta: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall,
    requestId: string | undefined,
  ): Record<string, never> {
    const { id, function: fn } = delta as {
      id?: unknown;
      function?: { name?: unknown; arguments?: unknown };
    };
    const ok = (v: unknown) => v === undefined || v === null || typeof v === 'string';
    if (ok(id) && (fn === undefined || fn === null || (isObject(fn) && ok(fn.name) && ok(fn.arguments))))
      return {};
    throw this.#badToolCall(delta, requestId);
  }

  #badToolCall(call: unknown, requestId: string | undefined): MalformedResponseError {
    return new MalformedResponseError(
      `the reply has a tool call that is not an id, a name and arguments as strings: ${JSON.stringify(call)?.slice(0, 200)}`,
      { provider: this.provider, ...(requestId ? { requestId } : {}) },
    );
  }

  /** The reply's usage in our shape; throws `MalformedResponseError` when it is missing or bad. */
  #usage(
    u: OpenAI.CompletionUsage | undefined,
    requestId: string | undefined,
    maxTokens: number | undefined,
  ): Usage {
    const usage = readUsage(
      u && {
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        totalTokens: u.total_tokens,
      },
      { provider: this.provider, requestId },
      maxTokens,
    );
    if (MalformedResponseError.is(usage)) throw usage;
    return usage;
  }

  #error(error: unknown): Error {
    if (error instanceof ProviderError || AbortError.is(error)) return error;
    const provider = this.provider;
    if (error instanceof OpenAI.APIUserAbortError)
      return new AbortError('the provider call was aborted', error);
    if (error instanceof OpenAI.APIConnectionError) {
      return new ProviderConnectionError(error.message || 'connection failed', { provider, cause: error });
    }
    if (error instanceof OpenAI.APIError) {
      const requestId = error.requestID ?? undefined;
      const after = retryAfterMs(error.headers, error.error);
      const common = {
        provider,
        cause: error,
        ...(requestId ? { requestId } : {}),
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      };
      if (error.status === 429) {
        const quota = this.#quotaExhaustion(error.error, Date.now());
        if (!quota) return new ProviderRateLimitError(error.message, common);
        return new QuotaExhaustedError(quota.message, {
          ...common,
          status: 429,
          ...(quota.resetsAt !== undefined ? { resetsAt: quota.resetsAt } : {}),
        });
      }
      return new ProviderError(error.message, {
        ...common,
        ...(error.status !== undefined ? { status: error.status } : {}),
      });
    }
    if (error instanceof SyntaxError || error instanceof TypeError) {
      return new MalformedResponseError(`unreadable reply: ${error.message}`, { provider, cause: error });
    }
    return error instanceof Error ? error : new ProviderError(String(error), { provider });
  }
}

/**
 * An abort signal that follows the caller's and fires `timeoutMs` after it was made (or
 * last restarted); `explain` turns what a call threw into the SDK's own timeout error when
 * this deadline, not the caller, ended it.
 */
class Deadline {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #forward = () => this.#controller.abort(this.#outer?.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;

  constructor(outer: AbortSignal | undefined, timeoutMs: number) {
    this.#outer = outer;
    this.#timeoutMs = timeoutMs;
    if (outer?.aborted) this.#forward();
    else outer?.addEventListener('abort', this.#forward, { once: true });
    this.restart();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  restart(): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new OpenAI.APIConnectionTimeoutError());
    }, this.#timeoutMs);
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#forward);
  }

  explain(error: unknown): unknown {
    if (this.#timedOut) return new OpenAI.APIConnectionTimeoutError();
    if (this.#outer?.aborted && !AbortError.is(error) && !(error instanceof OpenAI.APIUserAbortError)) {
      return new AbortError('the provider call was aborted', error);
    }
    return error;
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

function toOpenAIMessage(m: ChatMessage): OpenAI.ChatCompletionMessageParam {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls && m.toolCalls.length > 0
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    default:
      return { role: m.role, content: m.content, ...(m.name ? { name: m.name } : {}) };
  }
}

function finishReason(reason: string | null | undefined): ChatResponse['finishReason'] {
  return reason === 'stop' || reason === 'length' || reason === 'tool_calls' || reason === 'content_filter'
    ? reason
    : 'other';
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
