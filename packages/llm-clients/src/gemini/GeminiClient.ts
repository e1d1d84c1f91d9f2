/** An `LLMClient` on Gemini's `generateContent` API through the official `@google/genai`. */
import { type GenerateContentParameters, type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import { AbortError, checkOptions, optionRules, rule, type Usage } from '@tollgate/core';
import { Observable, type Subscriber } from 'rxjs';
import { apiKeyFrom } from '../apiKey.js';
import { CallDeadline } from '../callDeadline.js';
import { MalformedResponseError } from '../errors.js';
import { geminiQuotaExhaustion, type QuotaExhaustionDetector } from '../quotaExhaustion.js';
import type { CallOptions, ChatChunk, ChatRequest, ChatResponse, LLMClient } from '../types.js';
import { finishReasonOf, readParts, toGeminiRequest, usageOf } from './contents.js';
import { geminiError } from './errors.js';

/** Options of {@link GeminiClient}. */
export interface GeminiClientOptions {
  /** The default model (`gemini-2.5-flash`, ...). */
  readonly model: string;
  /**
   * Required here, in `GEMINI_API_KEY` or in `GOOGLE_API_KEY`. Sent as `x-goog-api-key`;
   * never logged or put in errors. @default process.env.GEMINI_API_KEY ?? process.env.GOOGLE_API_KEY
   */
  readonly apiKey?: string | undefined;
  /** Another endpoint speaking the Gemini API (the simulator's `url`). @default Google's */
  readonly baseURL?: string | undefined;
  /** A configured client. Its retries are turned off per call. */
  readonly client?: GoogleGenAI | undefined;
  /** How long a call (or a stream's silence) may last, ms. Greater than 0. @default 600_000 */
  readonly timeoutMs?: number | undefined;
  /** Names the provider in errors and metrics. @default 'gemini' */
  readonly provider?: string | undefined;
  readonly defaultHeaders?: Readonly<Record<string, string>> | undefined;
  /** Tells a per-day quota from a per-minute limit in a 429's body. @default geminiQuotaExhaustion */
  readonly quotaExhaustion?: QuotaExhaustionDetector | undefined;
}

/** Defaults of {@link GeminiClientOptions}. */
export const GEMINI_CLIENT_DEFAULTS = { timeoutMs: 600_000 } as const;

/** The response header a request id is read from, where the endpoint sends one. */
const REQUEST_ID_HEADERS = ['x-request-id', 'x-goog-request-id'];

/**
 * An `LLMClient` for the Gemini API: chat and streaming, function calling, abort signals,
 * usage from `usageMetadata`. Gemini sends no rate-limit headers; its 429s say what to do in
 * the body (`RetryInfo.retryDelay`, `QuotaFailure` violations), which become
 * `ProviderRateLimitError.retryAfterMs` or, for a per-day quota, `QuotaExhaustedError`. The
 * SDK's retries are off for every call: retries belong to the governed client.
 *
 * @example
 * const client = new GeminiClient({ model: 'gemini-2.5-flash', apiKey: process.env.GEMINI_API_KEY });
 */
export class GeminiClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly model: string;
  readonly #client: GoogleGenAI;
  readonly #timeoutMs: number;
  readonly #quotaExhaustion: QuotaExhaustionDetector;
  #calls = 0;

  /** @throws InvalidArgumentError naming every option out of range, or a missing key. */
  constructor(options: GeminiClientOptions) {
    checkOptions(
      'GeminiClient',
      { ...options, model: options?.model ?? null },
      {
        model: optionRules.string,
        apiKey: rule(
          'a non-empty API key (or leave it out and set GEMINI_API_KEY)',
          (v) => typeof v === 'string' && v.length > 0,
        ),
        baseURL: rule('an http(s) URL', (v) => typeof v === 'string' && /^https?:\/\/./.test(v)),
        client: rule('a GoogleGenAI client', (v) => v instanceof GoogleGenAI),
        timeoutMs: optionRules.positive,
        provider: optionRules.string,
        defaultHeaders: rule('a record of header values', (v) => typeof v === 'object' && v !== null),
        quotaExhaustion: optionRules.function,
      },
    );
    this.model = options.model;
    this.provider = options.provider ?? 'gemini';
    this.#timeoutMs = options.timeoutMs ?? GEMINI_CLIENT_DEFAULTS.timeoutMs;
    this.#quotaExhaustion = options.quotaExhaustion ?? geminiQuotaExhaustion;
    this.#client =
      options.client ??
      new GoogleGenAI({
        apiKey: apiKeyFrom(options.apiKey, ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], 'gemini()'),
        httpOptions: {
          ...(options.baseURL ? { baseUrl: options.baseURL } : {}),
          ...(options.defaultHeaders ? { headers: { ...options.defaultHeaders } } : {}),
        },
      });
  }

  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const deadline = new CallDeadline(options.signal, this.#timeoutMs);
    const call = this.#call(request, deadline);
    try {
      const response = await this.#client.models.generateContent(call.params);
      const requestId = call.requestId();
      const { text, toolCalls } = readParts(response, call.idOf, (p) => this.#badCall(p, requestId));
      if (!response.candidates?.[0]) throw this.#malformed('the reply has no candidates', requestId);
      const reason = response.candidates[0].finishReason;
      return {
        id: response.responseId ?? `gemini-${call.n}`,
        model: response.modelVersion ?? request.model ?? this.model,
        content: text ?? null,
        toolCalls,
        finishReason: finishReasonOf(reason, toolCalls.length > 0),
        usage: this.#usage(response, requestId, request.maxTokens),
        ...(requestId ? { requestId } : {}),
      };
    } catch (error) {
      throw geminiError(error, deadline, {
        provider: this.provider,
        requestId: call.requestId(),
        detect: this.#quotaExhaustion,
      });
    } finally {
      deadline.clear();
    }
  }

  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    return new Observable<ChatChunk>((subscriber) => {
      const deadline = new CallDeadline(options.signal, this.#timeoutMs);
      const call = this.#call(request, deadline);
      this.#pump(request, call, deadline, subscriber).then(
        () => {
          deadline.clear();
          subscriber.complete();
        },
        (error: unknown) => {
          deadline.clear();
          const context = {
            provider: this.provider,
            requestId: call.requestId(),
            detect: this.#quotaExhaustion,
          };
          subscriber.error(geminiError(error, deadline, context));
        },
      );
      return () => {
        deadline.clear();
        deadline.abort(new AbortError('stream unsubscribed'));
      };
    });
  }

  async #pump(
    request: ChatRequest,
    call: GeminiCall,
    deadline: CallDeadline,
    subscriber: Subscriber<ChatChunk>,
  ): Promise<void> {
    const stream = await this.#client.models.generateContentStream(call.params);
    const requestId = call.requestId();
    let first = true;
    let tools = 0;
    let last: GenerateContentResponse | undefined;
    deadline.restart();
    for await (const response of stream) {
      deadline.restart();
      last = response;
      const { text, toolCalls } = readParts(
        response,
        (i) => call.idOf(tools + i),
        (p) => this.#badCall(p, requestId),
      );
      const reason = response.candidates?.[0]?.finishReason;
      const chunk: ChatChunk = {
        ...(first
          ? {
              id: response.responseId ?? `gemini-${call.n}`,
              model: response.modelVersion ?? request.model ?? this.model,
              ...(requestId ? { requestId } : {}),
            }
          : {}),
        ...(text ? { content: text } : {}),
        ...(toolCalls.length > 0
          ? { toolCallDeltas: toolCalls.map((c, i) => ({ index: tools + i, ...c })) }
          : {}),
        ...(reason ? { finishReason: finishReasonOf(reason, tools + toolCalls.length > 0) } : {}),
      };
      tools += toolCalls.length;
      first = false;
      if (!subscriber.closed) subscriber.next(chunk);
    }
    if (deadline.signal.aborted) throw deadline.signal.reason;
    // Every chunk carries the usage so far: the last one's is the reply's.
    if (last?.usageMetadata && !subscriber.closed)
      subscriber.next({ usage: this.#usage(last, requestId, request.maxTokens) });
  }

  /** One call's parameters, with a fetch that notes the response's request id and no SDK retries. */
  #call(request: ChatRequest, deadline: CallDeadline): GeminiCall {
    const n = ++this.#calls;
    let requestId: string | undefined;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const response = await globalThis.fetch(input, init);
      requestId = REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find(Boolean) ?? undefined;
      return response;
    };
    const { contents, config } = toGeminiRequest(request, request.maxTokens);
    const params: GenerateContentParameters = {
      model: request.model ?? this.model,
      contents,
      config: {
        ...config,
        abortSignal: deadline.signal,
        httpOptions: { fetch, retryOptions: { attempts: 1 } },
      },
    };
    return { n, params, requestId: () => requestId, idOf: (i) => `call_${n}_${i}` };
  }

  #usage(
    response: GenerateContentResponse,
    requestId: string | undefined,
    maxTokens: number | undefined,
  ): Usage {
    const usage = usageOf(response, { provider: this.provider, requestId }, maxTokens);
    if (MalformedResponseError.is(usage)) throw usage;
    return usage;
  }

  #malformed(message: string, requestId: string | undefined): MalformedResponseError {
    return new MalformedResponseError(message, {
      provider: this.provider,
      ...(requestId ? { requestId } : {}),
    });
  }

  #badCall(part: unknown, requestId: string | undefined): MalformedResponseError {
    return this.#malformed(
      `the reply has a function call without a name: ${JSON.stringify(part)?.slice(0, 200)}`,
      requestId,
    );
  }
}

/** One call: its number, parameters, the request id once the response arrived, and ids for unnamed calls. */
interface GeminiCall {
  readonly n: number;
  readonly params: GenerateContentParameters;
  readonly requestId: () => string | undefined;
  readonly idOf: (i: number) => string;
}

/**
 * A `GeminiClient`.
 *
 * @example
 * createTollgateContainer({ provider: gemini({ model: 'gemini-2.5-flash' }) })
 */
export function gemini(options: GeminiClientOptions): GeminiClient {
  return new GeminiClient(options);
}
