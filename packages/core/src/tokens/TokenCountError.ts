// TokenCountError: a tokenizer that failed to load or to count.
import { errorGuard, TollgateError } from '../errors/TollgateError.js';

/** The tokenizer failed to load or to count a text; `cause` holds what it threw. */
export class TokenCountError extends TollgateError {
  static override readonly errorCode = 'TOKEN_COUNT_FAILED';
  static override readonly is = errorGuard<TokenCountError>(TokenCountError.errorCode);
  /** The encoding that failed. */
  readonly encoding: string;

  constructor(encoding: string, cause: unknown) {
    super(
      TokenCountError.errorCode,
      `Counting tokens with ${encoding} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.encoding = encoding;
  }
}
