import { type Clock, systemClock } from '@tollgate/core';
import { BehaviorSubject, type Observable } from 'rxjs';
import { CircuitOpenError } from '../errors.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  readonly failureThreshold?: number | undefined;
  /** How long it stays open before one probe is let through. @default 30_000 */
  readonly resetMs?: number | undefined;
}

/**
 * Fails fast while a provider is down: after `failureThreshold` consecutive failures the
 * circuit opens; after `resetMs` one call is let through (half-open); its success closes
 * the circuit, its failure opens it again. Rate limiting (429) is not a failure: the
 * governor's cooldown handles it.
 */
export class CircuitBreaker {
  readonly #provider: string;
  readonly #threshold: number;
  readonly #resetMs: number;
  readonly #clock: Clock;
  readonly #state = new BehaviorSubject<CircuitState>('closed');
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  /** The state now and on every change. */
  readonly state$: Observable<CircuitState> = this.#state.asObservable();

  constructor(provider: string, options: CircuitBreakerOptions = {}, clock: Clock = systemClock) {
    this.#provider = provider;
    this.#threshold = options.failureThreshold ?? 5;
    this.#resetMs = options.resetMs ?? 30_000;
    this.#clock = clock;
  }

  get state(): CircuitState {
    return this.#state.value;
  }

  /** Throws `CircuitOpenError` unless a call may go now. */
  check(): void {
    if (this.#state.value === 'closed') return;
    const waited = this.#clock.now() - this.#openedAt;
    if (this.#state.value === 'open' && waited >= this.#resetMs) {
      this.#state.next('half-open');
    }
    if (this.#state.value === 'half-open' && !this.#probing) {
      this.#probing = true;
      return;
    }
    throw new CircuitOpenError(this.#provider, Math.max(0, this.#resetMs - waited));
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state.value !== 'closed') this.#state.next('closed');
  }

  failure(): void {
    this.#failures++;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || (this.#state.value === 'closed' && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#clock.now();
      this.#state.next('open');
    }
  }

  /** A call that neither succeeded nor failed (aborted, rate limited) gives back its probe. */
  neutral(): void {
    this.#probing = false;
  }
}
