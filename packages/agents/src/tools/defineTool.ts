// defineTool: a tool from a name, a zod schema of its arguments and an execute function.
import { InvalidArgumentError } from '@tollgate/core';
import type { ToolDefinition } from '@tollgate/llm-clients';
import { z } from 'zod';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /** Aborted on the tool's timeout, the task's timeout, a cancelled run or a disposed agent. */
  readonly signal: AbortSignal;
  readonly agentId: string;
  readonly taskId: string;
  /** The id the model gave this call. */
  readonly callId: string;
}

/** What `defineTool` takes. */
export interface ToolSpec<TSchema extends z.ZodType, TResult> {
  /** 1–64 letters, digits, `_` or `-` (what providers accept). */
  readonly name: string;
  /** Tells the model when and how to use the tool. */
  readonly description: string;
  /** The arguments, as a zod object schema: validated before `execute`, sent to the model as JSON schema. */
  readonly parameters: TSchema;
  /** Runs the tool. A string result goes to the model as is; anything else as JSON. */
  readonly execute: (args: z.output<TSchema>, context: ToolContext) => TResult | Promise<TResult>;
  /** Overrides the agent's `toolTimeoutMs` for this tool. */
  readonly timeoutMs?: number | undefined;
}

/** A tool an agent can offer the model. Make one with {@link defineTool}. */
export interface Tool<TArgs = unknown, TResult = unknown> {
  readonly name: string;
  readonly description: string;
  readonly parameters: z.ZodType<TArgs>;
  readonly timeoutMs: number | undefined;
  /** What the provider is sent: name, description and the JSON schema of the parameters. */
  readonly definition: ToolDefinition;
  execute(args: TArgs, context: ToolContext): TResult | Promise<TResult>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** 4 for a zod 4 schema, 'a zod X.Y.Z schema' or 'a zod 3 schema' for others, else undefined. */
function zodVersionOf(value: unknown): 4 | string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { _zod: internals, _def: legacy } = value as { _zod?: { version?: unknown }; _def?: unknown };
  const version = internals?.version as { major?: unknown; minor?: unknown; patch?: unknown } | undefined;
  if (version?.major === 4) return 4;
  if (version) return `a zod ${version.major}.${version.minor}.${version.patch} schema`;
  return legacy !== undefined ? 'a zod 3 schema' : undefined;
}

/**
 * Defines a tool from a zod schema. The JSON schema for the provider is generated once, here.
 *
 * @throws InvalidArgumentError for a bad name, a schema that is not a zod 4 object schema, or a bad timeout.
 *
 * @example
 * const search = defineTool({
 *   name: 'search',
 *   description: 'Searches the notes',
 *   parameters: z.object({ query: z.string() }),
 *   execute: ({ query }) => notes.filter((n) => n.includes(query)),
 * });
 */
export function defineTool<TSchema extends z.ZodType, TResult>(
  spec: ToolSpec<TSchema, TResult>,
): Tool<z.output<TSchema>, TResult> {
  if (typeof spec.name !== 'string' || !NAME.test(spec.name))
    throw new InvalidArgumentError('name', '1-64 characters from A-Z, a-z, 0-9, _ and -', spec.name);
  if (typeof spec.execute !== 'function')
    throw new InvalidArgumentError(`${spec.name}.execute`, 'a function', spec.execute);
  if (spec.timeoutMs !== undefined && !(spec.timeoutMs > 0))
    throw new InvalidArgumentError(`${spec.name}.timeoutMs`, 'a number of ms above 0', spec.timeoutMs);
  const version = zodVersionOf(spec.parameters);
  if (version !== 4)
    throw new InvalidArgumentError(
      `${spec.name}.parameters`,
      'a zod 4 schema (@tollgate/agents needs zod@^4 beside it)',
      version ?? spec.parameters,
    );
  let schema: Record<string, unknown>;
  try {
    schema = z.toJSONSchema(spec.parameters, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
  } catch (error) {
    throw new InvalidArgumentError(`${spec.name}.parameters`, 'a zod schema', String(error));
  }
  if (schema.type !== 'object')
    throw new InvalidArgumentError(`${spec.name}.parameters`, 'a zod object schema', schema.type);
  const { $schema: _dialect, ...parameters } = schema;
  return Object.freeze({
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters as z.ZodType<z.output<TSchema>>,
    timeoutMs: spec.timeoutMs,
    definition: Object.freeze({ name: spec.name, description: spec.description, parameters }),
    execute: spec.execute,
  });
}
