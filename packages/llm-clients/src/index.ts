// The public API of @tollgate/llm-clients.
export {
  ANTHROPIC_CLIENT_DEFAULTS,
  AnthropicClient,
  type AnthropicClientOptions,
  anthropic,
} from './anthropic/AnthropicClient.js';
export { anthropicQuotaExhaustion } from './anthropic/errors.js';
export { parseAnthropicRateLimitHeaders } from './anthropic/rateLimitHeaders.js';
export { type AssembleFallback, assembleChunks } from './assemble.js';
export { toCountable, toCountableTools } from './countable.js';
export {
  CircuitOpenError,
  MalformedResponseError,
  ProviderConnectionError,
  ProviderError,
  type ProviderErrorDetails,
  ProviderRateLimitError,
  type QuotaExhaustedDetails,
  QuotaExhaustedError,
} from './errors.js';
export {
  GEMINI_CLIENT_DEFAULTS,
  GeminiClient,
  type GeminiClientOptions,
  gemini,
} from './gemini/GeminiClient.js';
export { DEFAULT_RETRY, fullJitterDelay, type RetryOptions } from './governed/backoff.js';
export {
  CIRCUIT_BREAKER_DEFAULTS,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitPermit,
  type CircuitState,
} from './governed/CircuitBreaker.js';
export { GovernedClient } from './governed/GovernedClient.js';
export {
  type ClientEvent,
  type ClientStats,
  checkGovernedClientOptions,
  GOVERNED_CLIENT_DEFAULTS,
  type GovernedClientOptions,
} from './governed/options.js';
export {
  durationUpperBound,
  type HeaderSource,
  parseDuration,
  parseProcessingMs,
  parseRateLimitHeaders,
  processingAgoMs,
  retryAfterMs,
} from './headers.js';
export { azureOpenAI, OpenAIClient, type OpenAIClientOptions, openai } from './openai/OpenAIClient.js';
export {
  anyQuotaExhaustion,
  geminiQuotaExhaustion,
  openAIQuotaExhaustion,
  type QuotaExhaustion,
  type QuotaExhaustionDetector,
} from './quotaExhaustion.js';
export {
  type Script,
  ScriptedClient,
  type ScriptedClientOptions,
  type ScriptedReply,
} from './scripted/ScriptedClient.js';
export {
  ANTHROPIC_TOKEN_MARGIN,
  anthropicTokenCounter,
  GEMINI_TOKEN_MARGIN,
  geminiTokenCounter,
  MarginTokenCounter,
  type MarginTokenCounterOptions,
  tokenCounterFor,
} from './tokens/MarginTokenCounter.js';
export type {
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  LLMClient,
  RateLimitInfo,
  ToolCall,
  ToolDefinition,
} from './types.js';
export { MAX_USAGE_TOKENS, readUsage } from './usage.js';
