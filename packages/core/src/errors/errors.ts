// The core typed errors: invalid limits and arguments, limits exceeded, waits and tasks timed out, aborts.
import { errorGuard, TollgateError } from './TollgateError.js';

/** One problem found while validating limits. */
export interface LimitsIssue {
  /** The option at fault, as a dotted path (`rates.0.windowMs`). */
  readonly field: string;
  /** What the option must be. */
  readonly expected: string;
  /** What was given. */
  readonly received: unknown;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}' (string)`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value} (${typeof value})`;
  if (value === undefined || value === null) return String(value);
  try {
    return `${JSON.stringify(value)} (${Array.isArray(value) ? 'array' : typeof value})`;
  } catch {
    return typeof value;
  }
}

/** Limits given to Tollgate are not valid; names every field at fault. */
export class InvalidLimitsError extends TollgateError {
  static override readonly errorCode = 'INVALID_LIMITS';
  static override readonly is = errorGuard<InvalidLimitsError>(InvalidLimitsError.errorCode);
  /** The first field at fault. */
  readonly field: string;
  readonly expected: string;
  readonly received: unknown;
  /** Every problem found, first one first. */
  readonly issues: readonly LimitsIssue[];

  constructor(issues: readonly LimitsIssue[]) {
    const first = issues[0] ?? { field: '(limits)', expected: 'valid limits', received: undefined };
    const lines = issues.map(
      (i) => `Expected \`${i.field}\` to be ${i.expected}, got ${describe(i.received)}`,
    );
    super(InvalidLimitsError.errorCode, `Invalid resource limits: ${lines.join('; ')}`);
    this.field = first.field;
    this.expected = first.expected;
    this.received = first.received;
    this.issues = issues;
  }
}

/** One argument or option at fault, for {@link InvalidArgumentError.issues}. */
export interface ArgumentIssue {
  /** The argument or option (`CircuitBreaker.resetMs`). */
  readonly option: string;
  readonly expected: string;
  readonly received: unknown;
}

/** An argument passed to a Tollgate API is not valid (a negative cost, say). */
export class InvalidArgumentError extends TollgateError {
  static override readonly errorCode = 'INVALID_ARGUMENT';
  static override readonly is = errorGuard<InvalidArgumentError>(InvalidArgumentError.errorCode);
  /** The (first) argument at fault. */
  readonly argument: string;
  readonly expected: string;
  readonly received: unknown;
  /** Every argument at fault, first one first (one entry unless built by {@link fromIssues}). */
  readonly issues: readonly ArgumentIssue[];

  constructor(argument: string, expected: string, received: unknown, more: readonly ArgumentIssue[] = []) {
    const issues = [{ option: argument, expected, received }, ...more];
    super(
      InvalidArgumentError.errorCode,
      issues
        .map((i) => `Expected \`${i.option}\` to be ${i.expected}, got ${describe(i.received)}`)
        .join('; '),
    );
    this.argument = argument;
    this.expected = expected;
    this.received = received;
    this.issues = issues;
  }

  /** One error for several arguments at fault (at least one). */
  static fromIssues(issues: readonly ArgumentIssue[]): InvalidArgumentError {
    const [first, ...more] = issues;
    if (!first) return new InvalidArgumentError('(arguments)', 'valid', undefined);
    return new InvalidArgumentError(first.option, first.expected, first.received, more);
  }
}

/** Fields of a {@link ResourceLimitExceededError}. */
export interface LimitExceededDetails {
  /** The limit that refused: `tokensPerMinute`, `concurrentTasks`, `memory`, `cooldown`, a custom rate name. */
  readonly limit: string;
  /** What the caller asked for, in the limit's unit. */
  readonly requested: number;
  /** What the limit had available at that moment (0 while in debt: status and errors never show less). */
  readonly available: number;
  /**
   * How long until the request would fit, in ms; `undefined` when it is not known (a
   * concurrency slot frees when a task ends) and `Infinity` when it never will.
   */
  readonly retryAfterMs: number | undefined;
  /** A human-readable reason. */
  readonly reason: string;
}

/**
 * A request was refused by a limit: in reject mode because it does not fit now, or in
 * any mode because it can never fit (it is larger than the limit's capacity).
 */
export class ResourceLimitExceededError extends TollgateError implements LimitExceededDetails {
  static override readonly errorCode = 'RESOURCE_LIMIT_EXCEEDED';
  static override readonly is = errorGuard<ResourceLimitExceededError>(ResourceLimitExceededError.errorCode);
  readonly limit: string;
  readonly requested: number;
  readonly available: number;
  readonly retryAfterMs: number | undefined;
  readonly reason: string;

  constructor(details: LimitExceededDetails) {
    super(ResourceLimitExceededError.errorCode, `Resource limit exceeded: ${details.reason}`, {
      retryable: details.retryAfterMs !== Number.POSITIVE_INFINITY,
    });
    this.limit = details.limit;
    this.requested = details.requested;
    this.available = details.available;
    this.retryAfterMs = details.retryAfterMs;
    this.reason = details.reason;
  }
}

/** A caller waited for resources longer than its wait timeout. */
export class ResourceWaitTimeoutError extends TollgateError {
  static override readonly errorCode = 'RESOURCE_WAIT_TIMEOUT';
  static override readonly is = errorGuard<ResourceWaitTimeoutError>(ResourceWaitTimeoutError.errorCode);
  readonly waitedMs: number;
  /** What the caller was still waiting for when it gave up. */
  readonly reason: string;

  constructor(waitedMs: number, reason: string) {
    super(
      ResourceWaitTimeoutError.errorCode,
      `Gave up waiting for resources after ${waitedMs} ms (${reason}); raise resourceWaitTimeoutSeconds or lower the load`,
      { retryable: true },
    );
    this.waitedMs = waitedMs;
    this.reason = reason;
  }
}

/** A task ran longer than its timeout; its AbortSignal was aborted with this error. */
export class TaskTimeoutError extends TollgateError {
  static override readonly errorCode = 'TASK_TIMEOUT';
  static override readonly is = errorGuard<TaskTimeoutError>(TaskTimeoutError.errorCode);
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(TaskTimeoutError.errorCode, `Task timed out after ${timeoutMs} ms`, { retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired; `cause` holds the signal's reason. */
export class AbortError extends TollgateError {
  static override readonly errorCode = 'ABORTED';
  static override readonly is = errorGuard<AbortError>(AbortError.errorCode);

  constructor(message = 'The operation was aborted', cause?: unknown) {
    super(AbortError.errorCode, message, { cause });
  }
}

/** The governor (or agent, or client) was disposed while the call was pending or after. */
export class DisposedError extends TollgateError {
  static override readonly errorCode = 'DISPOSED';
  static override readonly is = errorGuard<DisposedError>(DisposedError.errorCode);

  constructor(what: string) {
    super(DisposedError.errorCode, `${what} has been disposed`);
  }
}

/**
 * The reason to reject with when `signal` has aborted: the signal's own reason if it is a
 * Tollgate error (a task timeout, say), otherwise an {@link AbortError} wrapping it.
 */
export function abortReason(signal: AbortSignal): TollgateError {
  const reason: unknown = signal.reason;
  if (TollgateError.is(reason)) return reason;
  return new AbortError(undefined, reason);
}
