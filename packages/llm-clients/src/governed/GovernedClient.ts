import {
  addUsage,
  type Clock,
  EMPTY_USAGE,
  type Logger,
  silentLogger,
  sleep,
  systemClock,
  TiktokenCounter,
  type TokenCounter,
  TollgateError,
  type Usage,
} from '@tollgate/core';
import type { Governor, GovernorLease } from '@tollgate/limits';
import { Observable, Subject, type Subscription } from 'rxjs';
import { assembleChunks } from '../assemble.js';
import { toCountable, toCountableTools } from '../countable.js';
import { MalformedResponseError, ProviderError, ProviderRateLimitError } from '../errors.js';
import type {
  CallOptions,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  LLMClient,
  RateLimitInfo,
} from '../types.js';
import { DEFAULT_RETRY, fullJitterDelay, type RetryOptions } from './backoff.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './CircuitBreaker.js';

/** Options of {@link GovernedClient}. */
export interface GovernedClientOptions {
  /** Governors every call passes, in this order: agent-level first, provider-level last. */
  readonly governors: readonly Governor[];
  /** The governor of the provider's quota: 429 cooldowns and header feedback go here. @default the last governor */
  readonly providerGovernor?: Governor | undefined;
  /**
   * How the provider counts tokens against its quota. `admission`: prompt + max output
   * tokens when the request is admitted (OpenAI, Azure and the simulator do this), so the
   * provider governor is settled with that; `usage`: what was really used. Other governors
   * are always settled with real usage. @default 'admission'
   */
  readonly providerCharging?: 'admission' | 'usage' | undefined;
  /**
   * How `chat` calls the provider. `'whole'`: one request, one reply. `'stream'`: the reply
   * is streamed and assembled (`assembleChunks`), so the provider governor's hold ends at
   * its first chunk, not at its end (see `GovernorLease.endHold`). Against strict windows a
   * call then costs its time to first token per window cycle instead of its whole latency.
   * Retries, settlement and errors are the same either way. @default 'whole'
   */
  readonly chatTransport?: 'whole' | 'stream' | undefined;
  /** @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** Output tokens reserved (and sent as `max_tokens`) when a request sets none. @default 1_024 */
  readonly defaultMaxTokens?: number | undefined;
  readonly retry?: RetryOptions | undefined;
  /**
   * Options of this client's own breaker, a `CircuitBreaker` to share with other clients of
   * the same provider (so one outage opens it for all of them), or `false` for none.
   * @default { failureThreshold: 5, resetMs: 30_000 }
   */
  readonly circuitBreaker?: CircuitBreakerOptions | CircuitBreaker | false | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** Source of jitter, for tests. @default Math.random */
  readonly random?: (() => number) | undefined;
}

/** What the governed client does, as it happens. */
export type ClientEvent =
  | {
      readonly type: 'call';
      readonly attempt: number;
      readonly estimateTokens: number;
      readonly usage: Usage;
      readonly durationMs: number;
    }
  | {
      readonly type: 'retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: string;
      readonly status?: number;
    }
  | { readonly type: 'rate-limited'; readonly retryAfterMs: number | undefined; readonly status: 429 }
  | { readonly type: 'feedback'; readonly resource: 'requests' | 'tokens'; readonly lowered: number }
  | { readonly type: 'failed'; readonly attempts: number; readonly error: string; readonly code: string }
  | { readonly type: 'circuit'; readonly state: CircuitState };

/** Running totals of a governed client. */
export interface ClientStats {
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  rateLimited: number;
  usage: Usage;
}

/**
 * Every call passes the tollgate: count prompt tokens (+ max output tokens) → acquire
 * `{ requests: 1, tokens }` on every governor in order → call with the caller's signal →
 * settle every lease with what was used. A 429 puts the provider governor into cooldown
 * for everyone sharing it; rate-limit headers can only lower its view; 5xx and connection
 * errors retry with full-jitter backoff; a circuit breaker fails fast while the provider
 * is down.
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
  readonly #governors: readonly Governor[];
  readonly #provider: Governor | undefined;
  readonly #charging: 'admission' | 'usage';
  readonly #transport: 'whole' | 'stream';
  readonly #counter: TokenCounter;
  readonly #maxTokens: number;
  readonly #retry: Required<RetryOptions>;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #events = new Subject<ClientEvent>();
  readonly #breakerSubscription: Subscription | undefined;

  constructor(inner: LLMClient, options: GovernedClientOptions) {
    this.#inner = inner;
    this.provider = inner.provider;
    this.model = inner.model;
    this.#governors = options.governors;
    this.#provider = options.providerGovernor ?? options.governors.at(-1);
    this.#charging = options.providerCharging ?? 'admission';
    this.#transport = options.chatTransport ?? 'whole';
    this.#counter = options.tokenCounter ?? new TiktokenCounter();
    this.#maxTokens = options.defaultMaxTokens ?? 1_024;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    const breaker = options.circuitBreaker;
    this.#breaker =
      breaker === false
        ? undefined
        : breaker instanceof CircuitBreaker
          ? breaker
          : new CircuitBreaker(inner.provider, breaker, this.#clock);
    this.events$ = this.#events.asObservable();
    this.circuitState$ = this.#breaker?.state$ ?? new Observable<CircuitState>((s) => s.next('closed'));
    this.#breakerSubscription = this.#breaker?.state$.subscribe((state) =>
      this.#emit({ type: 'circuit', state }),
    );
  }

  /** Completes `events$` and detaches from a shared circuit breaker. Calls in flight finish normally. */
  dispose(): void {
    this.#breakerSubscription?.unsubscribe();
    this.#events.complete();
  }

  /** Prompt tokens + max output tokens: what a call reserves. */
  estimateTokens(request: ChatRequest): number {
    const model = request.model ?? this.model;
    const prompt = this.#counter.countMessages(toCountable(request.messages), {
      model,
      tools: toCountableTools(request.tools),
    });
    return prompt + (request.maxTokens ?? this.#maxTokens);
  }

  async chat(request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    const req: ChatRequest = { ...request, maxTokens: request.maxTokens ?? this.#maxTokens };
    const estimate = this.estimateTokens(req);
    this.stats.calls++;
    for (let attempt = 1; ; attempt++) {
      const started = this.#clock.now();
      let leases: GovernorLease[] = [];
      try {
        this.#breaker?.check();
        leases = await this.#acquireAll(estimate, options.signal);
        const remainingAtSend = this.#snapshot();
        const response = await this.#call(req, options, leases, estimate);
        this.#settle(leases, response.usage, req.maxTokens!);
        this.#feedback(response.rateLimit, remainingAtSend);
        this.#breaker?.success();
        this.stats.succeeded++;
        this.stats.usage = addUsage(this.stats.usage, response.usage);
        this.#emit({
          type: 'call',
          attempt,
          estimateTokens: estimate,
          usage: response.usage,
          durationMs: this.#clock.now() - started,
        });
        return response;
      } catch (error) {
        this.#refund(leases, error);
        const delayMs = this.#onFailure(error, attempt, options.signal);
        if (delayMs === undefined) {
          this.stats.failed++;
          this.#emit({
            type: 'failed',
            attempts: attempt,
            error: String((error as Error)?.message ?? error),
            code: codeOf(error),
          });
          throw error;
        }
        if (delayMs > 0) await this.#sleep(delayMs, options.signal);
      } finally {
        for (const lease of leases) lease.release();
      }
    }
  }

  /**
   * Streams a reply through the tollgate: the reservation is made before the provider is
   * called and settled when the stream ends or is unsubscribed (with what was produced so
   * far). Failures before the first chunk are retried like `chat`.
   */
  stream(request: ChatRequest, options: CallOptions = {}): Observable<ChatChunk> {
    const req: ChatRequest = { ...request, maxTokens: request.maxTokens ?? this.#maxTokens };
    return new Observable<ChatChunk>((subscriber) => {
      const controller = new AbortController();
      const outer = options.signal;
      const forward = () => controller.abort(outer?.reason);
      if (outer?.aborted) forward();
      else outer?.addEventListener('abort', forward, { once: true });
      let finish: (() => void) | undefined;
      const run = async () => {
        const estimate = this.estimateTokens(req);
        const model = req.model ?? this.model;
        const promptTokens = estimate - req.maxTokens!;
        this.stats.calls++;
        for (let attempt = 1; ; attempt++) {
          let leases: GovernorLease[] = [];
          let emitted = false;
          let text = '';
          let usage: Usage | undefined;
          let settled = false;
          const settleOnce = () => {
            if (settled) return;
            settled = true;
            const used = usage ?? this.#countedUsage(text, promptTokens, model);
            this.#settle(leases, used, req.maxTokens!);
            this.stats.usage = addUsage(this.stats.usage, used);
            for (const lease of leases) lease.release();
          };
          try {
            this.#breaker?.check();
            leases = await this.#acquireAll(estimate, controller.signal);
            finish = settleOnce;
            await new Promise<void>((resolve, reject) => {
              const sub = this.#inner.stream(req, { signal: controller.signal }).subscribe({
                next: (chunk) => {
                  // The reply has started, so the provider has counted the call: its window
                  // counts from now, not from the end of a stream that may take seconds.
                  if (!emitted) this.#endProviderHold(leases);
                  emitted = true;
                  text += chunk.content ?? '';
                  for (const d of chunk.toolCallDeltas ?? []) text += (d.name ?? '') + (d.arguments ?? '');
                  if (chunk.usage) usage = chunk.usage;
                  subscriber.next(chunk);
                },
                error: reject,
                complete: resolve,
              });
              controller.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
            });
            settleOnce();
            this.#breaker?.success();
            this.stats.succeeded++;
            subscriber.complete();
            return;
          } catch (error) {
            if (emitted) {
              settleOnce();
              throw error;
            }
            settled = true;
            this.#refund(leases, error);
            for (const lease of leases) lease.release();
            const delayMs = this.#onFailure(error, attempt, controller.signal);
            if (delayMs === undefined) throw error;
            if (delayMs > 0) await this.#sleep(delayMs, controller.signal);
          }
        }
      };
      run().catch((error: unknown) => {
        this.stats.failed++;
        if (!subscriber.closed) subscriber.error(error);
      });
      return () => {
        outer?.removeEventListener('abort', forward);
        controller.abort();
        finish?.();
      };
    });
  }

  /** One attempt's provider call: whole, or streamed and assembled, ending the hold at the first chunk. */
  async #call(
    req: ChatRequest,
    options: CallOptions,
    leases: readonly GovernorLease[],
    estimate: number,
  ): Promise<ChatResponse> {
    if (this.#transport === 'whole') return this.#inner.chat(req, options);
    const chunks: ChatChunk[] = [];
    await new Promise<void>((resolve, reject) => {
      this.#inner.stream(req, options).subscribe({
        next: (chunk) => {
          if (chunks.length === 0) this.#endProviderHold(leases);
          chunks.push(chunk);
        },
        error: reject,
        complete: resolve,
      });
    });
    if (chunks.length === 0) {
      throw new MalformedResponseError('the stream ended without a reply', { provider: this.provider });
    }
    const model = req.model ?? this.model;
    const promptTokens = estimate - req.maxTokens!;
    return assembleChunks(chunks, { model, usage: (text) => this.#countedUsage(text, promptTokens, model) });
  }

  /** Usage of a streamed reply that reported none: the prompt as estimated, the text as counted. */
  #countedUsage(text: string, promptTokens: number, model: string): Usage {
    const completionTokens = this.#counter.countText(text, { model });
    return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  }

  /** Ends the provider lease's hold (see `GovernorLease.endHold`). */
  #endProviderHold(leases: readonly GovernorLease[]): void {
    const i = this.#provider ? this.#governors.indexOf(this.#provider) : -1;
    if (i >= 0) leases[i]?.endHold();
  }

  /** Acquires on every governor in order; on failure gives back what was taken and rethrows. */
  async #acquireAll(tokens: number, signal: AbortSignal | undefined): Promise<GovernorLease[]> {
    const leases: GovernorLease[] = [];
    try {
      for (const governor of this.#governors) {
        // The provider counts the call when it arrives: hold its window until the reply.
        const holdUntilSettled = governor === this.#provider;
        leases.push(await governor.acquire({ requests: 1, tokens }, { signal, holdUntilSettled }));
      }
      return leases;
    } catch (error) {
      for (const lease of leases) {
        lease.settle({ requests: 0, tokens: 0 }); // the call never happened
        lease.release();
      }
      throw error;
    }
  }

  /** Settles with what was used; the provider lease, acquired held, re-anchors its windows now. */
  #settle(leases: readonly GovernorLease[], usage: Usage, maxTokens: number): void {
    leases.forEach((lease, i) => {
      const isProvider = this.#governors[i] === this.#provider;
      const tokens =
        isProvider && this.#charging === 'admission' ? usage.promptTokens + maxTokens : usage.totalTokens;
      lease.settle({ tokens });
    });
  }

  /** A failed call used no tokens; the provider still counts a request it may have admitted (not a 429 or a 4xx). */
  #refund(leases: readonly GovernorLease[], error: unknown): void {
    const status = (error as ProviderError)?.status;
    const notAdmitted = status !== undefined && status >= 400 && status < 500;
    leases.forEach((lease, i) => {
      // The provider may have admitted (and charged) a call that failed without a 4xx: a 5xx,
      // a reset, a timeout, an abort after sending. Keep its reservation, so we never count
      // less than the provider does. Our own governors get everything back.
      if (this.#governors[i] === this.#provider && !notAdmitted) return;
      lease.settle({ requests: 0, tokens: 0 });
    });
  }

  /** Decides what a failure means: `undefined` to give up, or the delay before the next attempt. */
  #onFailure(error: unknown, attempt: number, signal: AbortSignal | undefined): number | undefined {
    if (signal?.aborted) return undefined;
    if (ProviderRateLimitError.is(error)) {
      this.stats.rateLimited++;
      this.#emit({ type: 'rate-limited', retryAfterMs: error.retryAfterMs, status: 429 });
      const wait = error.retryAfterMs ?? fullJitterDelay(attempt, this.#retry, this.#random);
      // Everyone sharing the quota waits, not only this caller; the next acquire waits it out.
      this.#provider?.cooldown(wait, `${this.provider} answered 429`);
      this.#breaker?.neutral();
    } else if (ProviderError.is(error) && error.isRetryable) {
      this.#breaker?.failure();
    } else {
      this.#breaker?.neutral();
      return undefined;
    }
    if (attempt >= this.#retry.maxAttempts) return undefined;
    const delayMs = ProviderRateLimitError.is(error)
      ? 0
      : fullJitterDelay(attempt, this.#retry, this.#random);
    this.stats.retries++;
    this.#emit({
      type: 'retry',
      attempt,
      delayMs,
      error: (error as Error).message,
      ...(error.status ? { status: error.status } : {}),
    });
    this.#logger.debug('retrying provider call', {
      provider: this.provider,
      attempt,
      delayMs,
      status: error.status,
    });
    return delayMs;
  }

  #snapshot(): { requests: number | undefined; tokens: number | undefined } {
    return { requests: this.#provider?.remaining('requests'), tokens: this.#provider?.remaining('tokens') };
  }

  /**
   * Lowers the provider governor's view by what the provider's headers reveal that we did
   * not see: its remaining count below ours at send time means someone else used the key.
   */
  #feedback(
    info: RateLimitInfo | undefined,
    atSend: { requests: number | undefined; tokens: number | undefined },
  ): void {
    if (!info || !this.#provider) return;
    for (const [resource, theirs, ours] of [
      ['requests', info.remainingRequests, atSend.requests],
      ['tokens', info.remainingTokens, atSend.tokens],
    ] as const) {
      if (theirs === undefined || ours === undefined || theirs >= ours) continue;
      const lowered = ours - theirs;
      this.#provider.lowerRemaining(resource, lowered);
      this.#emit({ type: 'feedback', resource, lowered });
    }
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(this.#clock, ms, signal);
  }

  #emit(event: ClientEvent): void {
    if (this.#events.observed) this.#events.next(event);
  }
}

function codeOf(error: unknown): string {
  return TollgateError.is(error) ? error.code : 'UNKNOWN';
}
