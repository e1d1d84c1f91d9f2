// JSON schemas of the conversation routes: validated by fastify, published as OpenAPI.

/** Text PostgreSQL can store: no NUL, no unpaired surrogate. */
const text = (maxLength: number) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\u0000\\uD800-\\uDFFF]*$' }) as const;

const agentProfile = {
  type: 'object',
  required: ['model', 'temperature', 'personality'],
  additionalProperties: false,
  properties: {
    agent_id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    model: text(256),
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    personality: text(500),
  },
} as const;

/** `POST /chat` and `POST /stream/{conversation_id}`. */
export const chatRequestBody = {
  type: 'object',
  required: ['message'],
  additionalProperties: false,
  properties: {
    message: text(20_000),
    conversation_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
    num_agents: { type: 'integer', minimum: 1, maximum: 64 },
    turns: { type: 'integer', minimum: 1, maximum: 64 },
    agents: { type: 'array', minItems: 1, maxItems: 64, items: agentProfile },
  },
} as const;

/** `POST /stream/{conversation_id}` takes the body without its own id. */
export const streamRequestBody = {
  ...chatRequestBody,
  properties: {
    message: chatRequestBody.properties.message,
    num_agents: chatRequestBody.properties.num_agents,
    turns: chatRequestBody.properties.turns,
    agents: chatRequestBody.properties.agents,
  },
} as const;

/** `{conversation_id}` in a path. */
export const conversationParams = {
  type: 'object',
  required: ['conversation_id'],
  properties: { conversation_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } },
} as const;

/** `POST /conversations/search`. */
export const searchBody = {
  type: 'object',
  required: ['query'],
  additionalProperties: false,
  properties: {
    query: text(1_000),
    limit: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

/** `?limit=` of `GET /conversations/recent`. */
export const recentQuery = {
  type: 'object',
  properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' } },
} as const;

/** `?days=` of the admin routes, and `format` of the export. */
export const daysQuery = {
  type: 'object',
  properties: {
    days: { type: 'string', pattern: '^[0-9]{1,5}(\\.[0-9]{1,3})?$' },
    format: { type: 'string', enum: ['json'] },
  },
} as const;

/** Any JSON object answer (documented in docs/conversations.md). */
export const objectAnswer = { type: 'object', additionalProperties: true } as const;
