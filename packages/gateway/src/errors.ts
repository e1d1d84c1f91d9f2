// Typed errors of the gateway: a setting that fails validation, and an HTTP answer with a status.
import { errorGuard, TollgateError } from '@tollgate/core';

/** A gateway setting (flag, env variable or config file field) is missing or wrong. */
export class GatewayConfigError extends TollgateError {
  static override readonly errorCode = 'GATEWAY_CONFIG';
  static override readonly is = errorGuard<GatewayConfigError>(GatewayConfigError.errorCode);
  /** The setting at fault, as the user wrote it (`GATEWAY_PORT`, `--port`, `keys[1].permissions`). */
  readonly setting: string;
  /** What it must be. */
  readonly expected: string;

  constructor(setting: string, expected: string, received: string) {
    super(
      GatewayConfigError.errorCode,
      `Invalid gateway setting \`${setting}\`: expected ${expected}, got ${received}`,
    );
    this.setting = setting;
    this.expected = expected;
  }
}

/** Options of {@link HttpError}. */
export interface HttpErrorOptions {
  /** OpenAI's error `type`. @default 'invalid_request_error' */
  readonly type?: string | undefined;
  /** The request field at fault, if any. */
  readonly param?: string | undefined;
  /** Extra response headers (`retry-after`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly cause?: unknown;
}

/**
 * An answer other than success, in OpenAI's error shape: `{ error: { message, type, code, param } }`.
 * Messages never carry a key or a token.
 */
export class HttpError extends TollgateError {
  static override readonly errorCode = 'GATEWAY_HTTP';
  static override readonly is = errorGuard<HttpError>(HttpError.errorCode);
  readonly status: number;
  /** A stable machine-readable reason (`invalid_api_key`, `rate_limit_exceeded`). */
  readonly reason: string;
  readonly type: string;
  readonly param: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, reason: string, message: string, options: HttpErrorOptions = {}) {
    super(HttpError.errorCode, message, { cause: options.cause, retryable: status === 429 || status >= 500 });
    this.status = status;
    this.reason = reason;
    this.type = options.type ?? 'invalid_request_error';
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  /** The response body. */
  toJSON(): { error: { message: string; type: string; code: string; param: string | null } } {
    return {
      error: { message: this.message, type: this.type, code: this.reason, param: this.param ?? null },
    };
  }
}
