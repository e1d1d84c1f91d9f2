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
  type HealthStatus,
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
