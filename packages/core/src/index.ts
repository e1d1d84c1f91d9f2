// The public API of @tollgate/core.
export { type LinkedAbort, linkAbort, onAbort } from './abort.js';
export type { Clock, TimerHandle } from './clock/Clock.js';
export { flushMicrotasks, ManualClock } from './clock/ManualClock.js';
export { SystemClock, systemClock } from './clock/SystemClock.js';
export { sleep } from './clock/sleep.js';
export {
  AbortError,
  type ArgumentIssue,
  abortReason,
  DisposedError,
  InvalidArgumentError,
  InvalidLimitsError,
  type LimitExceededDetails,
  type LimitsIssue,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TaskTimeoutError,
} from './errors/errors.js';
export { errorGuard, TollgateError, type TollgateErrorOptions } from './errors/TollgateError.js';
export {
  ConsoleLogger,
  type ConsoleLoggerOptions,
  type LogFields,
  type Logger,
  type LogLevel,
  SilentLogger,
  silentLogger,
} from './logging/Logger.js';
export { MAX_EXACT_CHARS, MAX_RUN_CHARS } from './tokens/boundedCount.js';
export { HeuristicTokenCounter } from './tokens/HeuristicTokenCounter.js';
export {
  type EncodingName,
  encodingForModel,
  TiktokenCounter,
  type TiktokenCounterOptions,
} from './tokens/TiktokenCounter.js';
export { TokenCountError } from './tokens/TokenCountError.js';
export {
  CHAT_OVERHEAD,
  type CountMessagesOptions,
  type CountOptions,
  countChat,
  messageText,
  type TokenCounter,
} from './tokens/TokenCounter.js';
export { TOKENS, type TokenName } from './tokens.js';
export { addUsage, type CountableMessage, EMPTY_USAGE, type Usage } from './types.js';
export {
  checkOptions,
  numberIn,
  type OptionIssue,
  type OptionRule,
  oneOf,
  optionRules,
  rule,
} from './validation/options.js';
