// Fleet subscribers that cannot throw: what they throw is logged and dropped.
import type { Logger } from '@tollgate/core';

/**
 * `fn`, unable to throw: what it throws is logged as an error and dropped. The fleet's own
 * subscribers (to a governor's, an agent's or the fleet's stream) are built with it, since
 * RxJS rethrows a subscriber's error asynchronously, where it crashes the process.
 */
export function guarded<A extends unknown[]>(
  logger: Logger,
  what: string,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (error) {
      try {
        logger.error(`${what} threw; ignored`, {
          error: error instanceof Error ? error.message : String(error),
        });
      } catch {
        // The logger threw too: nothing is left to tell, and nothing may escape.
      }
    }
  };
}
