// ScriptedClient: an LLMClient that plays a script of replies, for tests and examples.
import {
  type Clock,
  checkOptions,
  HeuristicTokenCounter,
  optionRules,
  rule,
  sleep,
  systemClock,
  type TokenCounter,
} from '@tollgate/core';
import { Observable } from 'rxjs';
import { toCountable } from '../countable.js';
import { ProviderError } from '../errors.js';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  LLMClient,
  RateLimitInfo,
} from '../types.js';

/** One scripted reply, or an error to throw. */
export type ScriptedReply =
  | {
      readonly content?: string | null | undefined;
      readonly toolCalls?:
        | ReadonlyArray<{
            readonly name: string;
            readonly arguments: string | object;
            readonly id?: string | undefined;
          }>
        | undefined;
      readonly finishReason?: ChatResponse['finishReason'] | undefined;
      /** Overrides the counted usage. */
      readonly usage?: Partial<ChatResponse['usage']> | undefined;
      /** Overrides the client's delay for this reply. */
      readonly delayMs?: number | undefined;
      /** Rate-limit headers the "provider" sent with this reply. */
      readonly rateLimit?: RateLimitInfo | undefined;
    }
  | Error;

/** A list of replies in order, or a function of the request and the call number (0-based). */
export type Script =
  | readonly ScriptedReply[]
  | ((request: ChatRequest, call: number) => ScriptedReply | Promise<ScriptedReply>);

/** Options of {@link ScriptedClient}. */
export interface ScriptedClientOptions {
  readonly script: Script;
  /** @default 'scripted' */
  readonly model?: string | undefined;
  /** Time each reply takes, on `clock`, ms. At least 0. @default 0 */
  readonly delayMs?: number | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** Counts usage. @default a HeuristicTokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** After the last reply of a list, repeat it instead of failing. @default false */
  readonly repeatLast?: boolean | undefined;
}

/**
 * A deterministic, offline `LLMClient` for tests and examples: replies come from a
 * script, take `delayMs` on the injected clock, honour the abort signal, and report
 * counted usage. Every request is kept in `calls`.
 *
 * @example
 * const client = new ScriptedClient({ script: [
 *   { toolCalls: [{ name: 'search', arguments: { query: 'tollgate' } }] },
 *   { content: 'Tollgate governs LLM calls.' },
 * ] });
 */
export class ScriptedClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'scripted';
  readonly model: string;
  /** Every request received, in order. */
  readonly calls: ChatRequest[] = [];
  readonly #options: ScriptedClientOptions;
  readonly #clock: Clock;
  readonly #counter: TokenCounter;

  /** @throws InvalidArgumentError naming every option out of range. */
  constructor(options: ScriptedClientOptions) {
    // `script` is required: a missing one is reported like a wrong one.
    checkOptions(
      'ScriptedClient',
      { ...options, script: options?.script ?? null },
      {
        script: rule('an array of replies or a function', (v) => Array.isArray(v) || typeof v === 'function'),
        model: optionRules.string,
        delayMs: optionRules.nonNegative,
        repeatLast: optionRules.boolean,
      },
    );
    this.#options = options;
    this.model = options.model ?? 'scripted';
    this.#clock = options.clock ?? systemClock;
    this.#counter = options.tokenCounter ?? new HeuristicTokenCounter();
  }

  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const call = this.calls.length;
    this.calls.push(request);
    const reply = await this.#next(request, call);
    await this.#sleep(
      reply instanceof Error ? (this.#options.delayMs ?? 0) : (reply.delayMs ?? this.#options.delayMs ?? 0),
      options.signal,
    );
    if (reply instanceof Error) throw reply;
    const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_${call}_${i}`,
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    }));
    const content = reply.content ?? (toolCalls.length > 0 ? null : '');
    const model = request.model ?? this.model;
    const promptTokens =
      reply.usage?.promptTokens ?? this.#counter.countMessages(toCountable(request.messages), { model });
    const completionTokens =
      reply.usage?.completionTokens ??
      this.#counter.countText((content ?? '') + toolCalls.map((c) => c.name + c.arguments).join(''), {
        model,
      });
    return {
      id: `scripted-${call}`,
      model,
      content,
      toolCalls,
      finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      usage: {
        promptTokens,
        completionTokens,
        totalTokens: reply.usage?.totalTokens ?? promptTokens + completionTokens,
        ...cacheCounts(reply.usage),
      },
      ...(reply.rateLimit ? { rateLimit: reply.rateLimit } : {}),
    };
  }

  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    return new Observable<ChatChunk>((subscriber) => {
      const controller = new AbortController();
      const forward = () => controller.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', forward, { once: true });
      this.chat(request, { signal: controller.signal }).then(
        (reply) => {
          for (const word of (reply.content ?? '').split(/(?<= )/))
            if (word) subscriber.next({ content: word });
          if (reply.toolCalls.length > 0) {
            subscriber.next({
              toolCallDeltas: reply.toolCalls.map((c, index) => ({
                index,
                id: c.id,
                name: c.name,
                arguments: c.arguments,
              })),
            });
          }
          subscriber.next({ finishReason: reply.finishReason, usage: reply.usage });
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        options.signal?.removeEventListener('abort', forward);
        controller.abort();
      };
    });
  }

  async #next(request: ChatRequest, call: number): Promise<ScriptedReply> {
    const { script, repeatLast = false } = this.#options;
    if (typeof script === 'function') return script(request, call);
    const reply = script[call] ?? (repeatLast ? script.at(-1) : undefined);
    if (!reply) {
      return new ProviderError(`script exhausted after ${script.length} replies`, {
        provider: 'scripted',
        retryable: false,
      });
    }
    return reply;
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(this.#clock, ms, signal);
  }
}

/** The cache counts a scripted usage sets, if any. */
function cacheCounts(usage: Partial<ChatResponse['usage']> | undefined): Partial<ChatResponse['usage']> {
  const { cacheReadTokens, cacheWriteTokens } = usage ?? {};
  return {
    ...(cacheReadTokens !== undefined ? { cacheReadTokens } : {}),
    ...(cacheWriteTokens !== undefined ? { cacheWriteTokens } : {}),
  };
}
