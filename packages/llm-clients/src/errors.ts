// The typed errors of provider calls: refusals, rate limits, exhausted quota, connection, open circuit.
import { errorGuard, TollgateError } from '@tollgate/core';

/** Fields of a {@link ProviderError}. */
export interface ProviderErrorDetails {
  readonly provider: string;
  /** HTTP status, when there was a response. */
  readonly status?: number | undefined;
  readonly requestId?: string | undefined;
  /** How long the provider asked us to wait, from its headers or body. */
  readonly retryAfterMs?: number | undefined;
  readonly cause?: unknown | undefined;
  readonly retryable?: boolean | undefined;
}

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504]);

/**
 * A provider call failed. `status` and `requestId` come from the provider; the message
 * never contains the API key. Retryable when the status is 408, 409, 429 or 5xx, or
 * there was no response (a connection failure).
 */
export class ProviderError extends TollgateError {
  static override readonly errorCode: string = 'PROVIDER_ERROR';
  static override readonly is = errorGuard<ProviderError>(undefined, (e) =>
    [
      'PROVIDER_ERROR',
      'PROVIDER_RATE_LIMITED',
      'PROVIDER_CONNECTION',
      'PROVIDER_MALFORMED_RESPONSE',
      'PROVIDER_QUOTA_EXHAUSTED',
    ].includes(e.code),
  );
  readonly provider: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: ProviderErrorDetails, code = ProviderError.errorCode) {
    const retryable =
      details.retryable ?? (details.status === undefined || RETRYABLE_STATUS.has(details.status));
    const where = [
      details.status && `status ${details.status}`,
      details.requestId && `request ${details.requestId}`,
    ]
      .filter(Boolean)
      .join(', ');
    super(code, `${details.provider}: ${message}${where ? ` (${where})` : ''}`, {
      cause: details.cause,
      retryable,
    });
    this.provider = details.provider;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The provider answered 429. `retryAfterMs` is what it asked for, if it said. */
export class ProviderRateLimitError extends ProviderError {
  static override readonly errorCode = 'PROVIDER_RATE_LIMITED';
  static override readonly is = errorGuard<ProviderRateLimitError>(ProviderRateLimitError.errorCode);

  constructor(message: string, details: Omit<ProviderErrorDetails, 'status'>) {
    super(message, { ...details, status: 429, retryable: true }, ProviderRateLimitError.errorCode);
  }
}

/** Fields of a {@link QuotaExhaustedError}. */
export interface QuotaExhaustedDetails extends Omit<ProviderErrorDetails, 'retryable'> {
  /** When the quota is known to come back (epoch ms), if the provider said. */
  readonly resetsAt?: number | undefined;
}

/**
 * The provider refused because a quota that does not refill within a rate window is used
 * up: OpenAI's `insufficient_quota`, a spend limit, a per-day quota. Not retryable: waiting
 * a few seconds will not help, so the call ends at once, no cooldown is put on the
 * governor, and a fleet stops dispatching with stop reason `quota-exhausted`.
 */
export class QuotaExhaustedError extends ProviderError {
  static override readonly errorCode = 'PROVIDER_QUOTA_EXHAUSTED';
  static override readonly is = errorGuard<QuotaExhaustedError>(QuotaExhaustedError.errorCode);
  /** When the quota comes back (epoch ms), if known. */
  readonly resetsAt: number | undefined;

  constructor(message: string, details: QuotaExhaustedDetails) {
    super(message, { ...details, retryable: false }, QuotaExhaustedError.errorCode);
    this.resetsAt = details.resetsAt;
  }
}

/** No response: connection refused or reset, DNS, a client-side timeout. */
export class ProviderConnectionError extends ProviderError {
  static override readonly errorCode = 'PROVIDER_CONNECTION';
  static override readonly is = errorGuard<ProviderConnectionError>(ProviderConnectionError.errorCode);

  constructor(message: string, details: Omit<ProviderErrorDetails, 'status'>) {
    super(message, { ...details, retryable: true }, ProviderConnectionError.errorCode);
  }
}

/** The provider answered 2xx with something that is not a valid reply. */
export class MalformedResponseError extends ProviderError {
  static override readonly errorCode = 'PROVIDER_MALFORMED_RESPONSE';
  static override readonly is = errorGuard<MalformedResponseError>(MalformedResponseError.errorCode);

  constructor(message: string, details: Omit<ProviderErrorDetails, 'status'>) {
    super(message, { ...details, retryable: false }, MalformedResponseError.errorCode);
  }
}

/** The circuit breaker is open: the provider failed too often; calls fail fast until it half-opens. */
export class CircuitOpenError extends TollgateError {
  static override readonly errorCode = 'CIRCUIT_OPEN';
  static override readonly is = errorGuard<CircuitOpenError>(CircuitOpenError.errorCode);
  readonly provider: string;
  readonly retryAfterMs: number;

  constructor(provider: string, retryAfterMs: number) {
    super(
      CircuitOpenError.errorCode,
      `${provider}: circuit open after repeated failures; next probe in ${Math.ceil(retryAfterMs)} ms`,
      {
        retryable: true,
      },
    );
    this.provider = provider;
    this.retryAfterMs = retryAfterMs;
  }
}
