/** The one ladder every provider SDK's failures go down to become Tollgate's typed errors. */
import { AbortError } from '@tollgate/core';
import { DeadlineExpired } from './callDeadline.js';
import { MalformedResponseError, ProviderConnectionError, ProviderError } from './errors.js';

/** How one SDK's failures are told apart, for {@link mapSdkError}. */
export interface SdkErrorRungs<A> {
  /** The provider every error names. */
  readonly provider: string;
  /** Whether `error` is the SDK's own report of an aborted call. */
  readonly isAbort: (error: unknown) => boolean;
  /** Whether `error` is the SDK's report of a call that got no response (refused, reset, DNS). */
  readonly isConnection: (error: unknown) => boolean;
  /** Whether `error` is the SDK's error for an HTTP error response. */
  readonly isApiError: (error: unknown) => error is A;
  /** The typed error for an HTTP error response (status, rate limit, quota). */
  readonly fromApiError: (error: A) => Error;
  /** The request id a `MalformedResponseError` names, when the reply had one. @default undefined */
  readonly requestId?: string | undefined;
}

/**
 * The typed error for what an SDK call threw, tried in this order: a Tollgate provider
 * error or `AbortError` as it is; the call's own deadline (`DeadlineExpired`) as a
 * retryable `ProviderConnectionError`; the SDK's abort as `AbortError`; its connection
 * failure as `ProviderConnectionError`; its API error through `fromApiError`; a
 * `SyntaxError` or `TypeError` (an unreadable reply) as `MalformedResponseError`. Anything
 * else is returned as it is (a non-`Error` wrapped in a `ProviderError`). Run the thrown
 * value through `CallDeadline.explain` first, so a timeout or the caller's abort is told
 * from what the SDK made of it.
 */
export function mapSdkError<A>(thrown: unknown, rungs: SdkErrorRungs<A>): Error {
  const { provider, requestId } = rungs;
  if (thrown instanceof ProviderError || AbortError.is(thrown)) return thrown;
  if (thrown instanceof DeadlineExpired) {
    return new ProviderConnectionError(`timed out: ${thrown.message}`, { provider, cause: thrown });
  }
  if (rungs.isAbort(thrown)) return new AbortError('the provider call was aborted', thrown);
  if (rungs.isConnection(thrown)) {
    const message = (thrown as Error | undefined)?.message || 'connection failed';
    return new ProviderConnectionError(message, { provider, cause: thrown });
  }
  if (rungs.isApiError(thrown)) return rungs.fromApiError(thrown);
  if (thrown instanceof SyntaxError || thrown instanceof TypeError) {
    return new MalformedResponseError(`unreadable reply: ${thrown.message}`, {
      provider,
      cause: thrown,
      ...(requestId ? { requestId } : {}),
    });
  }
  return thrown instanceof Error ? thrown : new ProviderError(String(thrown), { provider });
}

/** An error class, as an SDK exports it. */
// biome-ignore lint/suspicious/noExplicitAny: an SDK's error constructors take arguments of their own.
type ErrorClass<E> = abstract new (...args: any[]) => E;

/** The error classes of an SDK generated from an OpenAPI spec by Stainless (`openai`, `@anthropic-ai/sdk`). */
export interface SdkErrorClasses<A> {
  readonly APIUserAbortError: ErrorClass<unknown>;
  readonly APIConnectionError: ErrorClass<unknown>;
  readonly APIError: ErrorClass<A>;
}

/**
 * The abort, connection and API-error rungs of {@link mapSdkError} for an SDK that tells its
 * failures apart by class (its abort and connection errors are API errors too, so the
 * ladder tries them first).
 */
export function errorClassChecks<A>(
  sdk: SdkErrorClasses<A>,
): Pick<SdkErrorRungs<A>, 'isAbort' | 'isConnection' | 'isApiError'> {
  return {
    isAbort: (error) => error instanceof sdk.APIUserAbortError,
    isConnection: (error) => error instanceof sdk.APIConnectionError,
    isApiError: (error): error is A => error instanceof sdk.APIError,
  };
}
