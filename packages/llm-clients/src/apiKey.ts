/** Finds a provider's API key in an option or the environment, without ever echoing it. */
import { InvalidArgumentError } from '@tollgate/core';

/**
 * The key given, or the first of `variables` set in the environment.
 * @throws InvalidArgumentError naming where to set one when there is none (the value shown is `undefined`, never a key).
 */
export function apiKeyFrom(key: string | undefined, variables: readonly string[], factory: string): string {
  const found = key ?? variables.map((v) => process.env[v]).find((v) => v !== undefined && v !== '');
  if (found) return found;
  throw new InvalidArgumentError(
    'apiKey',
    `an API key, from the \`apiKey\` option of ${factory} or the ${variables.join(' or ')} environment variable`,
    undefined,
  );
}
