// StoreUnavailableError: the quota store could not be reached.
import { errorGuard, TollgateError } from '@tollgate/core';

/** The quota store (Redis) could not be reached; what happens next is the governor's `onStoreDown` policy. */
export class StoreUnavailableError extends TollgateError {
  static override readonly errorCode = 'STORE_UNAVAILABLE';
  static override readonly is = errorGuard<StoreUnavailableError>(StoreUnavailableError.errorCode);
  readonly store: string;

  constructor(store: string, detail: string, cause?: unknown) {
    super(StoreUnavailableError.errorCode, `Quota store '${store}' is unavailable: ${detail}`, {
      cause,
      retryable: true,
    });
    this.store = store;
  }
}
