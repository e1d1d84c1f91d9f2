// CircuitBreaker: stops calls after consecutive failures, then lets one probe through.
import { type Clock, checkOptions, optionRules, systemClock } from '@tollgate/core';
import { BehaviorSubject, type Observable } from 'rxjs';
import { CircuitOpenError } from '../errors.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Minimum: 1. @default 5 */
  readonly failureThreshold?: number | undefined;
  /** How long it stays open before one probe is let through, ms. Greater than 0. @default 30_000 */
  readonly resetMs?: number | undefined;
}

/** Defaults of {@link CircuitBreakerOptions}. */
export const CIRCUIT_BREAKER_DEFAULTS = { failureThreshold: 5, resetMs: 30_000 } as const;

/**
 * The right of one call to go through the breaker, returned by `CircuitBreaker.check`.
 * Report how the call ended once; later reports are ignored. A call that ends without
 * success or failure (aborted, timed out, rate limited, refused by a governor) reports
 * `neutral`, which gives back the probe if it held it.
 */
export interface CircuitPermit {
  /** Whether this call is the half-open probe. */
  readonly probe: boolean;
  success(): void;
  failure(): void;
  neutral(): void;
}

/**
 * Fails fast while a provider is down: after `failureThreshold` consecutive failures the
 * circuit opens; after `resetMs` exactly one call is let through (half-open) and every
 * other call is refused until that probe reports: its success closes the circuit, its
 * failure opens it again, and anything else (abort, timeout, a 429) lets the next caller
 * probe. Rate limiting (429) is not a failure: the governor's cooldown handles it.
 */
export class CircuitBreaker {
  readonly #provider: string;
  readonly #threshold: number;
  readonly #resetMs: number;
  readonly #clock: Clock;
  readonly #state = new BehaviorSubject<CircuitState>('closed');
  #failures = 0;
  #openedAt = 0;
  /** The permit of the probe in flight, if any: only it can end the half-open state. */
  #probe: CircuitPermit | undefined;
  /** The state now and on every change. */
  readonly state$: Observable<CircuitState> = this.#state.asObservable();

  /** @throws InvalidArgumentError for a `failureThreshold` or `resetMs` out of range. */
  constructor(provider: string, options: CircuitBreakerOptions = {}, clock: Clock = systemClock) {
    const { failureThreshold, resetMs } = checkOptions('CircuitBreaker', options, {
      failureThreshold: optionRules.positiveInt,
      resetMs: optionRules.positive,
    });
    this.#provider = provider;
    this.#threshold = failureThreshold ?? CIRCUIT_BREAKER_DEFAULTS.failureThreshold;
    this.#resetMs = resetMs ?? CIRCUIT_BREAKER_DEFAULTS.resetMs;
    this.#clock = clock;
  }

  get state(): CircuitState {
    return this.#state.value;
  }

  /**
   * Lets a call go now, returning its permit, or throws `CircuitOpenError`: while open,
   * and while half-open with a probe in flight.
   */
  check(): CircuitPermit {
    if (this.#state.value === 'closed') return this.#permit(false);
    const waited = this.#clock.now() - this.#openedAt;
    if (this.#state.value === 'open' && waited >= this.#resetMs) this.#state.next('half-open');
    if (this.#state.value === 'half-open' && this.#probe === undefined) {
      const probe = this.#permit(true);
      this.#probe = probe;
      return probe;
    }
    throw new CircuitOpenError(this.#provider, Math.max(0, this.#resetMs - waited));
  }

  /** A call made without a permit succeeded: the circuit closes. */
  success(): void {
    this.#failures = 0;
    this.#probe = undefined;
    if (this.#state.value !== 'closed') this.#state.next('closed');
  }

  /** A call made without a permit failed: counts towards `failureThreshold`. */
  failure(): void {
    this.#failures++;
    if (this.#state.value === 'closed' && this.#failures >= this.#threshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#state.next('open');
  }

  #permit(probe: boolean): CircuitPermit {
    let reported = false;
    const once = (report: () => void) => () => {
      if (reported) return;
      reported = true;
      report();
    };
    const permit: CircuitPermit = {
      probe,
      success: once(() => this.success()),
      failure: once(() => {
        if (this.#probe !== permit) {
          this.failure();
          return;
        }
        this.#probe = undefined;
        this.#failures++;
        this.#open();
      }),
      neutral: once(() => {
        if (this.#probe === permit) this.#probe = undefined;
      }),
    };
    return permit;
  }
}
