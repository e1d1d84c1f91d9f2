// TollgateError: the branded base of every Tollgate error, and the guards that recognise them.
const BRAND = Symbol.for('tollgate.error');

/** Options every Tollgate error accepts. */
export interface TollgateErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown | undefined;
  /** Whether the same operation may succeed if tried again later. @default false */
  readonly retryable?: boolean | undefined;
}

/**
 * The base of every error Tollgate throws. Errors are branded with a global symbol and
 * carry a stable `code`, so `XError.is(e)` works even when two copies of a package are
 * loaded (where `instanceof` would not).
 */
export class TollgateError extends Error {
  /** The stable code of this class of error; `undefined` on the base class. */
  static readonly errorCode: string | undefined = undefined;

  readonly [BRAND] = true;
  /** A stable, machine-readable code such as `RESOURCE_LIMIT_EXCEEDED`. */
  readonly code: string;
  /** Whether the same operation may succeed if tried again later. */
  readonly isRetryable: boolean;

  constructor(code: string, message: string, options: TollgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.isRetryable = options.retryable ?? false;
  }

  /**
   * Whether `error` is a Tollgate error (of any class, on the base; of that class, on a
   * subclass). A plain function: safe to pass around (`errors.filter(TaskTimeoutError.is)`).
   *
   * @example
   * if (ResourceLimitExceededError.is(e)) console.log(e.retryAfterMs);
   */
  static readonly is: (error: unknown) => error is TollgateError = errorGuard<TollgateError>(undefined);
}

/**
 * A type guard for Tollgate errors with `code` (any Tollgate error when `undefined`) that
 * also pass `match`, checked by brand and code so it works across duplicate package copies.
 */
export function errorGuard<T extends TollgateError>(
  code: string | undefined,
  match?: (error: TollgateError) => boolean,
): (error: unknown) => error is T {
  return (error: unknown): error is T =>
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true &&
    (code === undefined || (error as TollgateError).code === code) &&
    (match === undefined || match(error as TollgateError));
}
