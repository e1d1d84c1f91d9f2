const BRAND = Symbol.for('tollgate.error');

/** Options every Tollgate error accepts. */
export interface TollgateErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** Whether the same operation may succeed if tried again later. @default false */
  readonly retryable?: boolean;
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
   * Whether `error` is a Tollgate error of this class (any Tollgate error, on the base).
   *
   * @example
   * if (ResourceLimitExceededError.is(e)) console.log(e.retryAfterMs);
   */
  static is<T extends TollgateError>(
    this: (abstract new (...args: never[]) => T) & { readonly errorCode: string | undefined },
    error: unknown,
  ): error is T {
    if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[BRAND] !== true) {
      return false;
    }
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass is() was called on; that is the point.
    return this.errorCode === undefined || (error as TollgateError).code === this.errorCode;
  }
}
