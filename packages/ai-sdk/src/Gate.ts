// The tollgate of one middleware: estimate, acquire on every governor, retry, feed headers back.
import {
  addUsage,
  type Clock,
  EMPTY_USAGE,
  InvalidArgumentError,
  type Logger,
  silentLogger,
  sleep,
  systemClock,
  TiktokenCounter,
  type TokenCounter,
  TollgateError,
} from '@tollgate/core';
import type { Governor, GovernorLease } from '@tollgate/limits';
import {
  anyQuotaExhaustion,
  type ClientEvent,
  type ClientStats,
  geminiQuotaExhaustion,
  type HeaderSource,
  openAIQuotaExhaustion,
  parseAnthropicRateLimitHeaders,
  parseRateLimitHeaders,
} from '@tollgate/llm-clients';
import { Subject } from 'rxjs';
import { countPromptTokens } from './countPrompt.js';
import {
  checkTollgateMiddlewareOptions,
  type PromptEstimate,
  TOLLGATE_MIDDLEWARE_DEFAULTS,
  type TollgateMiddlewareOptions,
} from './options.js';
import { RetryPolicy } from './RetryPolicy.js';
import { type Reservation, reservationCost, Toll } from './Toll.js';
import type { ModelCallOptions, WrappedModel } from './types.js';
import { type CallUsage, toUsage } from './usage.js';

/** What the provider governor had left of each resource, as far as it knew. */
export type Remaining = { readonly requests: number | undefined; readonly tokens: number | undefined };

/** Where one attempt of a call stands. */
export interface AttemptContext {
  /** From 1. */
  readonly attempt: number;
  /** The provider governor's view when the attempt was sent, for header feedback. */
  readonly atSend: Remaining;
  /** Clock time the attempt was sent. */
  readonly startedAt: number;
}

/**
 * Everything a governed call needs, shared by all calls of one middleware: the governors,
 * the counter, the retry policy, the events and the totals.
 */
export class Gate {
  readonly events = new Subject<ClientEvent>();
  readonly stats: ClientStats = {
    calls: 0,
    succeeded: 0,
    failed: 0,
    retries: 0,
    rateLimited: 0,
    usage: EMPTY_USAGE,
  };
  readonly counter: TokenCounter;
  readonly defaultMaxTokens: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly #governors: readonly Governor[];
  readonly #provider: Governor;
  readonly #charging: 'admission' | 'usage';
  readonly #estimate: PromptEstimate | undefined;
  readonly #label: string | undefined;
  readonly #policy: RetryPolicy;

  /** @throws InvalidArgumentError naming every option out of range. */
  constructor(options: TollgateMiddlewareOptions) {
    checkTollgateMiddlewareOptions(options);
    const d = TOLLGATE_MIDDLEWARE_DEFAULTS;
    this.#governors = options.governors;
    this.#provider = options.providerGovernor ?? options.governors.at(-1)!;
    this.#charging = options.providerCharging ?? d.providerCharging;
    this.counter = options.tokenCounter ?? new TiktokenCounter();
    this.#estimate = options.estimate;
    this.defaultMaxTokens = options.defaultMaxTokens ?? d.defaultMaxTokens;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.#label = options.label;
    this.#policy = new RetryPolicy({
      retry: options.retry ?? {},
      maxRetryAfterMs: options.maxRetryAfterMs ?? d.maxRetryAfterMs,
      detectQuota:
        options.quotaExhaustion ?? anyQuotaExhaustion(openAIQuotaExhaustion, geminiQuotaExhaustion),
      provider: this.#provider,
      providerAcquired: this.#governors.includes(this.#provider),
      logger: this.logger,
      random: options.random ?? Math.random,
      emit: (event) => this.emit(event),
    });
  }

  /** What a call reserves: its prompt tokens (counted, or the `estimate` option's) and its output bound. */
  reservation(params: ModelCallOptions, model: WrappedModel): Reservation {
    const promptTokens = this.#estimate
      ? this.#estimate(params, model)
      : countPromptTokens(this.counter, params, model.modelId);
    if (!Number.isInteger(promptTokens) || promptTokens < 0) {
      throw new InvalidArgumentError(
        'tollgateMiddleware.estimate()',
        'a whole number of tokens from 0',
        promptTokens,
      );
    }
    return { promptTokens, maxTokens: params.maxOutputTokens ?? this.defaultMaxTokens };
  }

  /**
   * Runs `attempt` through the tollgate until it succeeds or the retry policy gives up:
   * each attempt acquires on every governor in order (waiting out a 429's cooldown in the
   * provider governor's queue), and a failed one is refunded and released before the next.
   * `attempt` owns the toll it is given once it returns.
   */
  async run<T>(
    reservation: Reservation,
    signal: AbortSignal | undefined,
    provider: string,
    attempt: (toll: Toll, context: AttemptContext) => Promise<T>,
  ): Promise<T> {
    this.stats.calls++;
    for (let n = 1; ; n++) {
      let toll: Toll | undefined;
      let context: AttemptContext | undefined;
      try {
        toll = await this.#reserve(reservation, signal);
        context = { attempt: n, atSend: this.#remaining(), startedAt: this.clock.now() };
        return await attempt(toll, context);
      } catch (error) {
        const verdict = this.#policy.judge(error, n, signal, provider);
        // A refusal's rate-limit headers count too: a 429 that says nothing is left while we
        // thought some was (another user of the key) holds back the callers after its cooldown.
        if (context) this.feedback(verdict.failure?.headers, context.atSend, provider);
        if (toll && !toll.done) {
          const status = verdict.failure?.status;
          toll.refund(!(status !== undefined && status >= 400 && status < 500));
          toll.release();
        }
        if (!verdict.retry) {
          this.failed(n, verdict.error);
          throw verdict.error;
        }
        if (verdict.delayMs > 0) await this.#backOff(verdict.delayMs, signal, n);
      }
    }
  }

  /** Settles and releases a call that succeeded, and counts it. */
  succeeded(toll: Toll, usage: CallUsage, context: AttemptContext): void {
    toll.settle(usage);
    toll.release();
    const used = toUsage(usage);
    this.stats.succeeded++;
    this.stats.usage = addUsage(this.stats.usage, used);
    this.emit({
      type: 'call',
      attempt: context.attempt,
      estimateTokens: toll.reserved,
      usage: used,
      durationMs: this.clock.now() - context.startedAt,
    });
  }

  /** Counts a call that ended in an error. */
  failed(attempts: number, error: unknown): void {
    this.stats.failed++;
    this.emit({
      type: 'failed',
      attempts,
      error: String((error as Error)?.message ?? error),
      code: TollgateError.is(error) ? error.code : 'UNKNOWN',
    });
  }

  /**
   * Lowers the provider governor's view by what the provider's rate-limit headers reveal
   * that we did not see: its remaining count below ours at send time means someone else
   * used the key. A count below 0 or not finite says nothing true: it is ignored (logged).
   */
  feedback(headers: HeaderSource | undefined, atSend: Remaining, provider: string): void {
    // OpenAI's `x-ratelimit-*` headers, or Anthropic's `anthropic-ratelimit-*`.
    const info = parseRateLimitHeaders(headers) ?? parseAnthropicRateLimitHeaders(headers);
    if (!info) return;
    for (const [resource, theirs, ours] of [
      ['requests', info.remainingRequests, atSend.requests],
      ['tokens', info.remainingTokens, atSend.tokens],
    ] as const) {
      if (theirs === undefined || ours === undefined) continue;
      if (!(theirs >= 0 && Number.isFinite(theirs))) {
        this.logger.warn('ignored a rate-limit remaining count below 0', {
          provider,
          resource,
          remaining: theirs,
        });
        continue;
      }
      if (theirs >= ours) continue;
      this.#provider.lowerRemaining(resource, ours - theirs);
      this.emit({ type: 'feedback', resource, lowered: ours - theirs });
    }
  }

  emit(event: ClientEvent): void {
    if (event.type === 'rate-limited') this.stats.rateLimited++;
    if (event.type === 'retry') this.stats.retries++;
    if (this.events.observed) this.events.next(event);
  }

  /** Waits before the next attempt; an abort meanwhile ends the call (counted as failed). */
  async #backOff(ms: number, signal: AbortSignal | undefined, attempts: number): Promise<void> {
    try {
      await sleep(this.clock, ms, signal);
    } catch (error) {
      this.failed(attempts, error);
      throw error;
    }
  }

  #remaining(): Remaining {
    return { requests: this.#provider.remaining('requests'), tokens: this.#provider.remaining('tokens') };
  }

  /** Acquires on every governor in order; on failure gives back what was taken and rethrows. */
  async #reserve(reservation: Reservation, signal: AbortSignal | undefined): Promise<Toll> {
    const cost = reservationCost(reservation);
    const leases: GovernorLease[] = [];
    try {
      for (const governor of this.#governors) {
        // The provider counts the call when it arrives: hold its window until the reply starts.
        const holdUntilSettled = governor === this.#provider;
        leases.push(await governor.acquire(cost, { signal, holdUntilSettled, label: this.#label }));
      }
    } catch (error) {
      for (const lease of leases) {
        lease.settle({ requests: 0, tokens: 0, inputTokens: 0, outputTokens: 0 }); // the call never happened
        lease.release();
      }
      throw error;
    }
    return new Toll(leases, this.#governors.indexOf(this.#provider), this.#charging, reservation, this.clock);
  }
}
