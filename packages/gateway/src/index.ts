// The public API of @tollgate/gateway.
export { buildGatewayApp, type GatewayAppOptions } from './app.js';
export { Authenticator, type AuthenticatorOptions } from './auth/Authenticator.js';
export { type AuthDeps, requirePermission } from './auth/authHook.js';
export { IpBlocker, type IpBlockerLimits } from './auth/IpBlocker.js';
export type { Principal } from './auth/Principal.js';
export { checkConfigObject, readConfigFile } from './config/configFile.js';
export {
  DEFAULT_KEY_LIMITS,
  DEFAULT_PROVIDER_LIMITS,
  GATEWAY_DEFAULTS,
  type GatewayConfig,
  type GatewayKeyConfig,
  type IpBlockConfig,
  type JwtConfig,
  PERMISSIONS,
  type Permission,
  type UpstreamConfig,
} from './config/GatewayConfig.js';
export {
  GATEWAY_FLAGS,
  type LoadGatewayConfigOptions,
  loadGatewayConfig,
} from './config/loadGatewayConfig.js';
export { type AgentCallParts, conversationAgentDeps } from './conversations/agentDeps.js';
export { ConversationAgent, type Transcript } from './conversations/ConversationAgent.js';
export { ConversationHub, type Watcher } from './conversations/ConversationHub.js';
export {
  type ConversationDetail,
  type ConversationEnd,
  type ConversationRow,
  ConversationStore,
  type NewConversation,
  type StoredMessage,
  type StoredVote,
} from './conversations/ConversationStore.js';
export {
  type ChatRequestBody,
  CONVERSATION_ID_PATTERN,
  Conversations,
  type ConversationsParts,
  type StartedConversation,
} from './conversations/Conversations.js';
export {
  CONVERSATION_DEFAULTS,
  type ConversationsConfig,
  checkConversationsConfig,
} from './conversations/config.js';
export { type ConversationGatewayParts, createConversations } from './conversations/createConversations.js';
export type {
  AgentResponse,
  ConversationFailure,
  ConversationMetadata,
  ConversationResult,
  ConversationStatus,
  StreamMessage,
  StreamMessageInput,
  WireTallyEntry,
  WireUsage,
  WireVote,
} from './conversations/messages.js';
export {
  type AgentProfile,
  DEFAULT_AGENT_PROFILES,
  PERSONALITY_PROMPTS,
  type ResolvedProfile,
  resolveProfiles,
  systemPromptOf,
} from './conversations/profiles.js';
export { ConversationQueries, type ConversationSummary, type SearchHit } from './conversations/queries.js';
export { replayOf } from './conversations/replay.js';
export { conversationRoutes } from './conversations/routes.js';
export {
  type ConversationRun,
  confidenceOf,
  type RunnerParts,
  runConversation,
  stripDetail,
} from './conversations/runConversation.js';
export { CONVERSATION_MIGRATIONS } from './conversations/schema.js';
export { type ConversationStatistics, type QuotaUse, readStatistics } from './conversations/statistics.js';
export { type Database, type OpenDatabaseOptions, openDatabase, type SqlRunner } from './db/Database.js';
export { MIGRATIONS, type Migration, migrate } from './db/migrations.js';
export { GatewayConfigError, HttpError, type HttpErrorOptions } from './errors.js';
export { type Gateway, type GatewayDeps, startGateway } from './Gateway.js';
export { type Admission, Governance, type GovernanceOptions } from './governance/Governance.js';
export { rateLimitHeaders, retryAfterHeaders } from './governance/rateLimitHeaders.js';
export {
  type ComponentHealth,
  checkHealth,
  type DetailedHealth,
  HEALTH_COMPONENTS,
  type HealthStatus,
  PROVIDER_HEALTH_COMPONENTS,
  worst,
} from './health/checkHealth.js';
export { generateApiKey, hashApiKey, KEY_PREFIX, sameDigest } from './keys/apiKey.js';
export {
  type ApiKeyRecord,
  KeyStore,
  type KeyUsage,
  type NewKey,
  type UsageDelta,
} from './keys/KeyStore.js';
export { UsageRecorder } from './keys/UsageRecorder.js';
export { ChatProxy, type ChatProxyOptions, type ProxyReply } from './proxy/ChatProxy.js';
export { type ChatCompletionBody, maxOutputTokens, promptTokens } from './proxy/chatBody.js';
export type { UpstreamTarget } from './proxy/upstream.js';
export type { GatewayServices, QuotaStoreHealth } from './services.js';
