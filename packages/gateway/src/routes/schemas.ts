// JSON schemas of every request body and parameter: validated by fastify, published as OpenAPI.
import { BUILTIN_RATES, MAX_DURATION_MS, toSnakeCase } from '@tollgate/limits';

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    content: {
      anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'array', items: { type: 'object' } }],
    },
    name: { type: 'string', maxLength: 256 },
    tool_call_id: { type: 'string', maxLength: 256 },
    tool_calls: { type: 'array', items: { type: 'object' } },
  },
} as const;

/** `POST /v1/chat/completions`: the fields the gateway reads are checked; the rest pass through. */
export const chatCompletionBody = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: { type: 'array', minItems: 1, maxItems: 4_096, items: message },
    max_tokens: { anyOf: [{ type: 'integer', minimum: 1, maximum: 10_000_000 }, { type: 'null' }] },
    max_completion_tokens: {
      anyOf: [{ type: 'integer', minimum: 1, maximum: 10_000_000 }, { type: 'null' }],
    },
    stream: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
    tools: { type: 'array', maxItems: 512, items: { type: 'object' } },
  },
} as const;

/** Anthropic's `POST /v1/messages`: the fields the gateway reads are checked; the rest pass through. */
export const anthropicMessagesBody = {
  type: 'object',
  required: ['model', 'messages', 'max_tokens'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 4_096,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: ['user', 'assistant'] },
          content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
        },
      },
    },
    max_tokens: { type: 'integer', minimum: 1, maximum: 10_000_000 },
    system: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
    stream: { type: 'boolean' },
    tools: { type: 'array', maxItems: 512, items: { type: 'object' } },
  },
} as const;

/** Gemini's `generateContent`: the fields the gateway reads are checked; the rest pass through. */
export const geminiGenerateBody = {
  type: 'object',
  required: ['contents'],
  properties: {
    contents: {
      type: 'array',
      minItems: 1,
      maxItems: 4_096,
      items: {
        type: 'object',
        required: ['parts'],
        properties: {
          role: { type: 'string', enum: ['user', 'model'] },
          parts: { type: 'array', items: { type: 'object' } },
        },
      },
    },
    systemInstruction: { type: 'object' },
    generationConfig: {
      type: 'object',
      properties: { maxOutputTokens: { type: 'integer', minimum: 1, maximum: 10_000_000 } },
    },
    tools: { type: 'array', maxItems: 512, items: { type: 'object' } },
  },
} as const;

/** An error, in OpenAI's shape. */
export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        code: { type: 'string' },
        param: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** The most a count or rate limit may be: beyond it the value is a mistake, not a limit. */
export const MAX_LIMIT_VALUE = Number.MAX_SAFE_INTEGER;
/** The longest time a limit may name, seconds (366 days, as `@tollgate/limits` checks). */
const MAX_SECONDS = MAX_DURATION_MS / 1000;
const positive = { type: 'number', exclusiveMinimum: 0, maximum: MAX_LIMIT_VALUE } as const;
const atLeastOne = { type: 'number', minimum: 1, maximum: MAX_LIMIT_VALUE } as const;
const algorithm = { type: 'string', enum: ['token-bucket', 'sliding-window'] } as const;
/** Text inside limits is stored in PostgreSQL: no NUL, no unpaired surrogate. */
const storableText = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: '^[^\\u0000\\uD800-\\uDFFF]*$',
} as const;

/** Each built-in rate's limit and burst fields (`maxRequestsPerMinute`, `requestBurstSize`, ...). */
const rateProperties = Object.fromEntries(
  BUILTIN_RATES.flatMap((rate) => [
    [rate.limit, positive],
    ...(rate.burst ? [[rate.burst, atLeastOne]] : []),
  ]),
) as Record<string, typeof positive | typeof atLeastOne>;

/** Every `ResourceLimits` field: the rates' from the limits table, then the scalar fields. */
export const limitProperties = {
  ...rateProperties,
  maxConcurrentTasks: { type: 'integer', minimum: 1, maximum: MAX_LIMIT_VALUE },
  maxMemoryMb: positive,
  taskTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: MAX_SECONDS },
  resourceWaitTimeoutSeconds: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
  enforceLimits: { type: 'boolean' },
  rejectOnLimit: { type: 'boolean' },
  algorithm,
  algorithms: {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(BUILTIN_RATES.map((rate) => [rate.name, algorithm])),
  },
  rates: {
    type: 'array',
    maxItems: 64,
    items: {
      type: 'object',
      required: ['resource', 'limit', 'windowMs'],
      additionalProperties: false,
      properties: {
        name: storableText,
        resource: storableText,
        limit: positive,
        windowMs: { type: 'number', exclusiveMinimum: 0, maximum: MAX_SECONDS * 1000 },
        burst: atLeastOne,
        algorithm,
      },
    },
  },
  timeScale: positive,
  windowPaddingMs: { type: 'number', minimum: 0, maximum: 60_000 },
} as const;

/**
 * A key's own `ResourceLimits`, each value finite and bounded (camelCase or snake_case
 * names; answers use camelCase). Checked again by `@tollgate/limits` for combinations.
 */
export const limitsSchema = {
  type: 'object',
  description: 'ResourceLimits: the fields a key may set (camelCase or snake_case)',
  additionalProperties: false,
  properties: {
    ...limitProperties,
    ...Object.fromEntries(Object.entries(limitProperties).map(([k, v]) => [toSnakeCase(k), v])),
  },
} as const;
const permissions = {
  type: 'array',
  items: { type: 'string', enum: ['read', 'write', 'admin'] },
  uniqueItems: true,
} as const;

/** A key as listed: never the key or its hash. */
export const keyRecord = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    permissions,
    limits: { anyOf: [limitsSchema, { type: 'null' }] },
    createdAt: { type: 'string' },
    rotatedAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
    usage: {
      type: 'object',
      properties: {
        requests: { type: 'number' },
        rejected: { type: 'number' },
        promptTokens: { type: 'number' },
        completionTokens: { type: 'number' },
        costUsd: { type: 'number' },
      },
    },
  },
} as const;

/** A key with the key itself: only in the answer that creates or rotates it. */
export const issuedKey = {
  type: 'object',
  properties: { ...keyRecord.properties, key: { type: 'string', description: 'Shown once; store it now.' } },
} as const;

/** `POST /admin/keys`. */
export const newKeyBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    permissions: { ...permissions, default: ['read', 'write'] },
    limits: limitsSchema,
  },
} as const;

/** `:id` of the key routes. */
export const keyParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;
