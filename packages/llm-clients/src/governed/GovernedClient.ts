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
import { readUsage } from '../usage.js';
import { DEFAULT_RETRY, fullJitterDelay, type RetryOptions } from './backoff.js';
import { CircuitBreaker, type CircuitPermit, type CircuitState } from './CircuitBreaker.js';
import {
  type ClientEvent,
  type ClientStats,
  checkGovernedClientOptions,
  GOVERNED_CLIENT_DEFAULTS,
  type GovernedClientOptions,
} from './options.js';

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
  readonly #maxRetryAfterMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #label: string | undefined;
  readonly #events = new Subject<ClientEvent>();
  readonly #breakerSubscription: Subscription | undefined;

  /** @throws InvalidArgumentError naming every option out of range. */
  constructor(inner: LLMClient, options: GovernedClientOptions) {
    const retry = checkGovernedClientOptions(options);
    const d = GOVERNED_CLIENT_DEFAULTS;
    this.#inner = inner;
    this.provider = inner.provider;
    this.model = inner.model;
    this.#governors = options.governors;
    this.#provider = options.providerGovernor ?? options.governors.at(-1);
    this.#charging = options.providerCharging ?? d.providerCharging;
    this.#transport = options.chatTransport ?? d.chatTransport;
    this.#counter = options.tokenCounter ?? new TiktokenCounter();
    this.#maxTokens = options.defaultMaxTokens ?? d.defaultMaxTokens;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? d.maxRetryAfterMs;
    this.#retry = { ...DEFAULT_RETRY, ...retry };
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
    this.#label = options.label;
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
      let permit: CircuitPermit | undefined;
      try {
        permit = this.#breaker?.check();
        leases = await this.#acquireAll(estimate, options.signal);
        const remainingAtSend = this.#snapshot();
        const reply = await this.#call(req, options, leases, estimate);
        const usage = this.#checkedUsage(reply.usage, req.maxTokens!);
        if (MalformedResponseError.is(usage)) throw usage;
        const response = usage === reply.usage ? reply : { ...reply, usage };
        this.#settle(leases, usage, req.maxTokens!);
        this.#feedback(response.rateLimit, remainingAtSend);
        permit?.success();
        this.stats.succeeded++;
        this.stats.usage = addUsage(this.stats.usage, usage);
        this.#emit({
          type: 'call',
          attempt,
          estimateTokens: estimate,
          usage,
          durationMs: this.#clock.now() - started,
        });
        return response;
      } catch (error) {
        this.#refund(leases, error, estimate);
        const delayMs = this.#onFailure(error, attempt, options.signal, permit);
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
        permit?.neutral(); // whatever else happened, the probe (if this was it) is given back
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
      let permit: CircuitPermit | undefined;
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
          /** Settles and releases once; a malformed usage report leaves the reservation standing. */
          const settleOnce = (): MalformedResponseError | undefined => {
            if (settled) return undefined;
            settled = true;
            const used = this.#checkedUsage(
              usage ?? this.#countedUsage(text, promptTokens, model, req.maxTokens!),
              req.maxTokens!,
            );
            let malformed: MalformedResponseError | undefined;
            if (MalformedResponseError.is(used)) {
              malformed = used;
              this.#keepReservations(leases, estimate);
            } else {
              this.#settle(leases, used, req.maxTokens!);
              this.stats.usage = addUsage(this.stats.usage, used);
            }
            for (const lease of leases) lease.release();
            return malformed;
          };
          try {
            permit = this.#breaker?.check();
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
            const malformed = settleOnce();
            if (malformed) throw malformed;
            permit?.success();
            this.stats.succeeded++;
            subscriber.complete();
            return;
          } catch (error) {
            if (emitted) {
              this.#judge(error, permit);
              settleOnce();
              throw error;
            }
            settled = true;
            this.#refund(leases, error, estimate);
            for (const lease of leases) lease.release();
            const delayMs = this.#onFailure(error, attempt, controller.signal, permit);
            if (delayMs === undefined) throw error;
            if (delayMs > 0) await this.#sleep(delayMs, controller.signal);
          } finally {
            permit?.neutral();
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
        permit?.neutral();
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
    return assembleChunks(chunks, {
      model,
      usage: (text) => this.#countedUsage(text, promptTokens, model, req.maxTokens!),
    });
  }

  /**
   * Usage of a streamed reply that reported none: the prompt as estimated, the text as
   * counted, at most `maxTokens` (the provider stopped there, whatever a counter says).
   */
  #countedUsage(text: string, promptTokens: number, model: string, maxTokens: number): Usage {
    const completionTokens = Math.min(maxTokens, this.#counter.countText(text, { model }));
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
        leases.push(
          await governor.acquire({ requests: 1, tokens }, { signal, holdUntilSettled, label: this.#label }),
        );
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

  /**
   * A failed call used no tokens; the provider still counts a request it may have admitted
   * (not a 429 or a 4xx). A malformed reply was answered, so nothing is refunded.
   */
  #refund(leases: readonly GovernorLease[], error: unknown, estimate: number): void {
    if (MalformedResponseError.is(error)) {
      this.#keepReservations(leases, estimate);
      return;
    }
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

  /** Settles every lease with the estimate: the call happened, what it used is unknown. */
  #keepReservations(leases: readonly GovernorLease[], estimate: number): void {
    for (const lease of leases) lease.settle({ tokens: estimate });
  }

  /**
   * A reply's usage as charged, or a `MalformedResponseError` when it is not three whole
   * counts within `MAX_USAGE_TOKENS` or its completion count is above `maxTokens`. A total
   * that disagrees with prompt + completion is replaced by prompt + completion (logged).
   */
  #checkedUsage(usage: Usage | undefined, maxTokens: number): Usage | MalformedResponseError {
    const read = readUsage(usage, { provider: this.provider }, maxTokens);
    if (MalformedResponseError.is(read)) return read;
    const totalTokens = read.promptTokens + read.completionTokens;
    if (read.totalTokens === totalTokens) return usage!;
    this.#logger.warn('usage total disagrees with prompt + completion: charged prompt + completion', {
      provider: this.provider,
      promptTokens: read.promptTokens,
      completionTokens: read.completionTokens,
      totalTokens: read.totalTokens,
    });
    return { ...read, totalTokens };
  }

  /** Reports how a call ended to the circuit breaker: only retryable provider failures count. */
  #judge(error: unknown, permit: CircuitPermit | undefined): void {
    if (ProviderError.is(error) && error.isRetryable && !ProviderRateLimitError.is(error)) permit?.failure();
    else permit?.neutral();
  }

  /** Decides what a failure means: `undefined` to give up, or the delay before the next attempt. */
  #onFailure(
    error: unknown,
    attempt: number,
    signal: AbortSignal | undefined,
    permit: CircuitPermit | undefined,
  ): number | undefined {
    if (signal?.aborted) {
      permit?.neutral();
      return undefined;
    }
    this.#judge(error, permit);
    if (ProviderRateLimitError.is(error)) return this.#onRateLimited(error, attempt);
    if (!ProviderError.is(error) || !error.isRetryable) return undefined;
    return this.#retryAfter(error, attempt, fullJitterDelay(attempt, this.#retry, this.#random));
  }

  /**
   * A 429: everyone sharing the quota waits, not only this caller. In enforce mode the
   * provider governor's cooldown holds the next attempt in its queue; in monitor and
   * reject modes (or with the provider governor outside `governors`) the attempt waits the
   * cooldown out here, since a provider's retry-after is a fact in every mode.
   */
  #onRateLimited(error: ProviderRateLimitError, attempt: number): number | undefined {
    this.stats.rateLimited++;
    const asked = this.#trustedRetryAfter(error.retryAfterMs);
    this.#emit({ type: 'rate-limited', retryAfterMs: asked, status: 429 });
    const reason = `${this.provider} answered 429`;
    if (asked !== undefined && asked > this.#maxRetryAfterMs) {
      this.#logger.warn(
        'a 429 asked for a wait longer than maxRetryAfterMs: cooldown capped, call not retried',
        {
          provider: this.provider,
          retryAfterMs: asked,
          maxRetryAfterMs: this.#maxRetryAfterMs,
        },
      );
      this.#provider?.cooldown(this.#maxRetryAfterMs, reason);
      return undefined;
    }
    const wait = asked ?? fullJitterDelay(attempt, this.#retry, this.#random);
    this.#provider?.cooldown(wait, reason);
    const queued =
      this.#provider !== undefined &&
      this.#provider.mode === 'enforce' &&
      this.#governors.includes(this.#provider);
    const delayMs = queued ? 0 : wait;
    if (delayMs > 0 && attempt < this.#retry.maxAttempts) {
      this.#emit({ type: 'would-block', limit: 'cooldown', waitMs: delayMs, reason });
    }
    return this.#retryAfter(error, attempt, delayMs);
  }

  /** A provider's retry-after, or `undefined` (logged) when it is negative or not finite. */
  #trustedRetryAfter(ms: number | undefined): number | undefined {
    if (ms === undefined || (ms >= 0 && Number.isFinite(ms))) return ms;
    this.#logger.warn('ignored a retry-after that is not a duration', {
      provider: this.provider,
      retryAfterMs: ms,
    });
    return undefined;
  }

  /** Schedules another attempt after `delayMs`, or `undefined` when attempts are used up. */
  #retryAfter(error: ProviderError, attempt: number, delayMs: number): number | undefined {
    if (attempt >= this.#retry.maxAttempts) return undefined;
    this.stats.retries++;
    this.#emit({
      type: 'retry',
      attempt,
      delayMs,
      error: error.message,
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
   * A remaining count below 0 or not finite says nothing true: it is ignored (and logged).
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
      if (theirs === undefined || ours === undefined) continue;
      if (!(theirs >= 0 && Number.isFinite(theirs))) {
        this.#logger.warn('ignored a rate-limit remaining count below 0', {
          provider: this.provider,
          resource,
          remaining: theirs,
        });
        continue;
      }
      if (theirs >= ours) continue;
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
