// The governed client: every call of an LLMClient passes the governors, with retries, a breaker and feedback.
import {
  AbortError,
  EMPTY_USAGE,
  silentLogger,
  systemClock,
  TiktokenCounter,
  type TokenCounter,
} from '@tollgate/core';
import { Observable, Subject, type Subscription } from 'rxjs';
import { toCountable, toCountableTools } from '../countable.js';
import type { CallOptions, ChatChunk, ChatRequest, ChatResponse, LLMClient } from '../types.js';
import { AttemptLoop } from './AttemptLoop.js';
import { DEFAULT_RETRY } from './backoff.js';
import { breakerHook } from './breakerHook.js';
import { CircuitBreaker, type CircuitState } from './CircuitBreaker.js';
import type { ClientContext } from './context.js';
import type { CallSize } from './costs.js';
import { feedbackHook } from './feedbackHook.js';
import type { AttemptHook } from './hooks.js';
import {
  type ClientEvent,
  type ClientStats,
  checkGovernedClientOptions,
  GOVERNED_CLIENT_DEFAULTS,
  type GovernedClientOptions,
} from './options.js';
import { RetryDecider } from './RetryDecider.js';
import { assembledTransport, type CountUsage, forwardingTransport, wholeTransport } from './transports.js';
import { countedUsage } from './usageCheck.js';

/**
 * Every call passes the tollgate: count prompt tokens (+ max output tokens) → acquire
 * `{ requests: 1, tokens }` on every governor in order → call with the caller's signal →
 * settle every lease with what was used. A 429 puts the provider governor into cooldown
 * for everyone sharing it; rate-limit headers can only lower its view; 5xx and connection
 * errors retry with full-jitter backoff; a circuit breaker fails fast while the provider
 * is down. `chat` and `stream` run the same attempts, retries, events and stats.
 */
export class GovernedClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly model: string;
  readonly events$: Observable<ClientEvent>;
  /** The circuit state now and on every change. */
  readonly circuitState$: Observable<CircuitState>;
  readonly stats: ClientStats = {
    calls: 0,
    succeeded: 0,
    failed: 0,
    retries: 0,
    rateLimited: 0,
    usage: EMPTY_USAGE,
  };
  readonly #inner: LLMClient;
  readonly #transport: 'whole' | 'stream';
  readonly #counter: TokenCounter;
  readonly #maxTokens: number;
  readonly #loop: AttemptLoop;
  readonly #events = new Subject<ClientEvent>();
  readonly #breakerSubscription: Subscription | undefined;

  /** @throws InvalidArgumentError naming every option out of range. */
  constructor(inner: LLMClient, options: GovernedClientOptions) {
    const retry = checkGovernedClientOptions(options);
    const d = GOVERNED_CLIENT_DEFAULTS;
    this.#inner = inner;
    this.provider = inner.provider;
    this.model = inner.model;
    this.#transport = options.chatTransport ?? d.chatTransport;
    this.#counter = options.tokenCounter ?? new TiktokenCounter();
    this.#maxTokens = options.defaultMaxTokens ?? d.defaultMaxTokens;
    const ctx = this.#context(options);
    const breaker = breakerOf(options, inner.provider, ctx);
    const hooks: AttemptHook[] = [];
    if (breaker) hooks.push(breakerHook(breaker));
    if (ctx.providerGovernor) hooks.push(feedbackHook(ctx, ctx.providerGovernor));
    const decider = new RetryDecider(ctx, {
      retry: { ...DEFAULT_RETRY, ...retry },
      maxRetryAfterMs: options.maxRetryAfterMs ?? d.maxRetryAfterMs,
      random: options.random ?? Math.random,
    });
    this.#loop = new AttemptLoop(ctx, hooks, decider);
    this.events$ = this.#events.asObservable();
    this.circuitState$ = breaker?.state$ ?? new Observable<CircuitState>((s) => s.next('closed'));
    this.#breakerSubscription = breaker?.state$.subscribe((state) => ctx.emit({ type: 'circuit', state }));
  }

  /** Completes `events$` and detaches from a shared circuit breaker. Calls in flight finish normally. */
  dispose(): void {
    this.#breakerSubscription?.unsubscribe();
    this.#events.complete();
  }

  /** Prompt tokens + max output tokens: what a call reserves. */
  estimateTokens(request: ChatRequest): number {
    const size = this.#size(request);
    return size.promptTokens + size.maxTokens;
  }

  /** Sends `request` through the governors and returns the reply, retrying as configured. */
  chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    let size: CallSize;
    let req: ChatRequest;
    try {
      req = this.#withMaxTokens(request);
      size = this.#size(req);
    } catch (error) {
      return Promise.reject(error);
    }
    const model = req.model ?? this.model;
    const transport =
      this.#transport === 'whole'
        ? () => wholeTransport(this.#inner, req)
        : () => assembledTransport(this.#inner, req, model, this.#countUsage(size, model));
    // Not an `async` method: a call waiting in a governor's queue keeps one frame less.
    return this.#loop
      .run(size, transport, options.signal)
      .then(({ value, usage }) => (usage === value.usage ? value : { ...value, usage }));
  }

  /**
   * Streams a reply through the tollgate: the reservation is made before the provider is
   * called and settled when the stream ends, or when it is unsubscribed (with what was
   * produced so far). Failures before the first chunk are retried like `chat`, with the
   * same events and stats.
   */
  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    const req = this.#withMaxTokens(request);
    return new Observable<ChatChunk>((subscriber) => {
      const controller = new AbortController();
      const outer = options.signal;
      const forward = () => controller.abort(outer?.reason);
      if (outer?.aborted) forward();
      else outer?.addEventListener('abort', forward, { once: true });
      let cancelled = false;
      const size = this.#size(req);
      const model = req.model ?? this.model;
      const countUsage = this.#countUsage(size, model);
      const transport = () => forwardingTransport(this.#inner, req, subscriber, countUsage, () => cancelled);
      this.#loop.run(size, transport, controller.signal).then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        outer?.removeEventListener('abort', forward);
        cancelled = true;
        controller.abort(new AbortError('the stream was unsubscribed'));
      };
    });
  }

  #withMaxTokens(request: ChatRequest): ChatRequest {
    return { ...request, maxTokens: request.maxTokens ?? this.#maxTokens };
  }

  #size(request: ChatRequest): CallSize {
    const model = request.model ?? this.model;
    const promptTokens = this.#counter.countMessages(toCountable(request.messages), {
      model,
      tools: toCountableTools(request.tools),
    });
    return { promptTokens, maxTokens: request.maxTokens ?? this.#maxTokens };
  }

  #countUsage(size: CallSize, model: string): CountUsage {
    return (text) => countedUsage(this.#counter, text, { ...size, model });
  }

  #context(options: GovernedClientOptions): ClientContext {
    const d = GOVERNED_CLIENT_DEFAULTS;
    return {
      provider: this.provider,
      governors: options.governors,
      providerGovernor: options.providerGovernor ?? options.governors.at(-1),
      charging: options.providerCharging ?? d.providerCharging,
      label: options.label,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
      stats: this.stats,
      emit: (event) => {
        if (this.#events.observed) this.#events.next(event);
      },
    };
  }
}

/** The client's breaker: the one given, one of its own, or none (`circuitBreaker: false`). */
function breakerOf(options: GovernedClientOptions, provider: string, ctx: ClientContext) {
  const breaker = options.circuitBreaker;
  if (breaker === false) return undefined;
  return breaker instanceof CircuitBreaker ? breaker : new CircuitBreaker(provider, breaker, ctx.clock);
}
