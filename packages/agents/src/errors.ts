// The typed errors of the agents layer: iterations, tools, their arguments, timeouts and results.
import { errorGuard, TollgateError } from '@tollgate/core';

/** The model kept calling tools past the agent's `maxIterations`. */
export class MaxIterationsExceededError extends TollgateError {
  static override readonly errorCode = 'MAX_ITERATIONS_EXCEEDED';
  static override readonly is = errorGuard<MaxIterationsExceededError>(MaxIterationsExceededError.errorCode);
  readonly maxIterations: number;

  constructor(maxIterations: number) {
    super(
      MaxIterationsExceededError.errorCode,
      `No final answer after ${maxIterations} model turns (maxIterations); the model kept calling tools`,
    );
    this.maxIterations = maxIterations;
  }
}

/** The model called a tool with arguments that are not JSON or do not match the tool's schema. */
export class InvalidToolArgumentsError extends TollgateError {
  static override readonly errorCode = 'INVALID_TOOL_ARGUMENTS';
  static override readonly is = errorGuard<InvalidToolArgumentsError>(InvalidToolArgumentsError.errorCode);
  readonly tool: string;
  readonly issues: readonly string[];

  constructor(tool: string, issues: readonly string[], cause?: unknown) {
    super(InvalidToolArgumentsError.errorCode, `Invalid arguments for tool '${tool}': ${issues.join('; ')}`, {
      cause,
    });
    this.tool = tool;
    this.issues = issues;
  }
}

/** The model called a tool the agent does not have. */
export class UnknownToolError extends TollgateError {
  static override readonly errorCode = 'UNKNOWN_TOOL';
  static override readonly is = errorGuard<UnknownToolError>(UnknownToolError.errorCode);
  readonly tool: string;

  constructor(tool: string, available: readonly string[]) {
    super(
      UnknownToolError.errorCode,
      `Unknown tool '${tool}'; available: ${available.length > 0 ? available.join(', ') : 'none'}`,
    );
    this.tool = tool;
  }
}

/** A tool ran past its timeout; its signal was aborted. */
export class ToolTimeoutError extends TollgateError {
  static override readonly errorCode = 'TOOL_TIMEOUT';
  static override readonly is = errorGuard<ToolTimeoutError>(ToolTimeoutError.errorCode);
  readonly tool: string;
  readonly timeoutMs: number;

  constructor(tool: string, timeoutMs: number) {
    super(ToolTimeoutError.errorCode, `Tool '${tool}' timed out after ${timeoutMs} ms`, { retryable: true });
    this.tool = tool;
    this.timeoutMs = timeoutMs;
  }
}

/** A tool's `execute` threw; `cause` is what it threw. */
export class ToolExecutionError extends TollgateError {
  static override readonly errorCode = 'TOOL_FAILED';
  static override readonly is = errorGuard<ToolExecutionError>(ToolExecutionError.errorCode);
  readonly tool: string;

  constructor(tool: string, cause: unknown) {
    super(
      ToolExecutionError.errorCode,
      `Tool '${tool}' failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.tool = tool;
  }
}

/** A tool's result could not be turned into text for the model (`toJSON` and `toString` threw, a cycle, a BigInt). */
export class ToolResultError extends TollgateError {
  static override readonly errorCode = 'TOOL_RESULT_UNSERIALISABLE';
  static override readonly is = errorGuard<ToolResultError>(ToolResultError.errorCode);
  readonly tool: string;

  constructor(tool: string, cause: unknown) {
    super(
      ToolResultError.errorCode,
      `Tool '${tool}' returned a result that cannot be turned into text: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.tool = tool;
  }
}

/** `parseOutput` rejected the model's final answer. */
export class OutputParseError extends TollgateError {
  static override readonly errorCode = 'OUTPUT_PARSE_FAILED';
  static override readonly is = errorGuard<OutputParseError>(OutputParseError.errorCode);

  constructor(message: string, cause?: unknown) {
    super(OutputParseError.errorCode, message, { cause });
  }
}
