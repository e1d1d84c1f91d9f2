// An agent's token counter whose failures are always typed TokenCountErrors.
import { TokenCountError, type TokenCounter, TollgateError } from '@tollgate/core';

/**
 * `counter`, with whatever it throws untyped turned into a {@link TokenCountError}, so a
 * tokenizer failing on hostile text ends the task with a typed error, never a bare one.
 */
export function typedCounter(counter: TokenCounter): TokenCounter {
  const guard = <T>(count: () => T): T => {
    try {
      return count();
    } catch (error) {
      throw TollgateError.is(error) ? error : new TokenCountError("the agent's token counter", error);
    }
  };
  return {
    countText: (text, options) => guard(() => counter.countText(text, options)),
    countMessages: (messages, options) => guard(() => counter.countMessages(messages, options)),
  };
}
