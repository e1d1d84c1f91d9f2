// The GatewayConfigError a config check throws, for tests that look at what it names.
import { GatewayConfigError } from '../errors.js';

/** Runs `fn` and returns the GatewayConfigError it throws; any other outcome fails the test. */
export function configFailure(fn: () => unknown): GatewayConfigError {
  try {
    fn();
  } catch (error) {
    if (GatewayConfigError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a GatewayConfigError');
}
