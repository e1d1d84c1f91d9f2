// The gateway's settings: what flags, env and the config file fill in, with their defaults.
import type { ResourceLimits } from '@tollgate/limits';
import type { ConversationsConfig } from '../conversations/config.js';

/** What a key (or a JWT) may do: `read` lists models, `write` calls them, `admin` manages keys. */
export type Permission = 'read' | 'write' | 'admin';

/** Every permission, in order. */
export const PERMISSIONS: readonly Permission[] = ['read', 'write', 'admin'];

/** A key declared in the config file; created (or updated, by name) at start. */
export interface GatewayKeyConfig {
  /** Unique name, shown in lists and usage. */
  readonly name: string;
  /** The key itself (at least 16 characters). Give this or `keyHash`. */
  readonly key?: string | undefined;
  /** The SHA-256 of the key, hex: keeps the key itself out of the file. */
  readonly keyHash?: string | undefined;
  /** @default ['read', 'write'] */
  readonly permissions?: readonly Permission[] | undefined;
  /** This key's own limits. @default the config's `defaultLimits` */
  readonly limits?: ResourceLimits | undefined;
}

/** The provider the gateway forwards to. */
export interface UpstreamConfig {
  /** An OpenAI-compatible base URL ending in `/v1`. @default an embedded provider simulator */
  readonly baseUrl?: string | undefined;
  /** The provider key, sent upstream and nowhere else. @default 'sk-simulator' */
  readonly apiKey?: string | undefined;
  /** The provider's quota for this key, shared by every client (and replica). @default see `DEFAULT_PROVIDER_LIMITS` */
  readonly limits?: ResourceLimits | undefined;
  /** Attempts per request when the provider answers 429. Minimum: 1. @default 3 */
  readonly maxAttempts?: number | undefined;
  /**
   * Longest silence of the provider, ms: before its reply starts and between streamed chunks
   * (with `transport: 'fetch'`, the longest whole reply). @default 120_000
   */
  readonly timeoutMs?: number | undefined;
  /**
   * `agent`: node:http over a keep-alive agent; `fetch`: the global fetch (honours a global
   * undici dispatcher). @default 'agent'
   */
  readonly transport?: 'agent' | 'fetch' | undefined;
  /** How the provider charges tokens: prompt + max_tokens at admission, or what was used. @default 'admission' */
  readonly charging?: 'admission' | 'usage' | undefined;
}

/** JWTs accepted instead of API keys, carrying `sub`, `permissions` and optional `limits`. */
export interface JwtConfig {
  /** HS256 secret (at least 32 characters). */
  readonly secret?: string | undefined;
  /** RS256 public key, PEM (SPKI). */
  readonly publicKey?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/** Blocking an address after repeated failed authentications. */
export interface IpBlockConfig {
  /** Failed authentications within `windowMs` that block the address. Minimum: 1. @default 10 */
  readonly maxFailures?: number | undefined;
  /** @default 60_000 */
  readonly windowMs?: number | undefined;
  /** How long the block lasts, ms. @default 300_000 */
  readonly blockMs?: number | undefined;
}

/** Every setting of the gateway. */
export interface GatewayConfig {
  /** @default 8787 */
  readonly port?: number | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  readonly upstream?: UpstreamConfig | undefined;
  /**
   * Anthropic's Messages API, served at `POST /v1/messages`; `baseUrl` is the host
   * (`https://api.anthropic.com`). @default the embedded simulator when `upstream` has no
   * `baseUrl`; otherwise none (the route answers 404)
   */
  readonly anthropic?: UpstreamConfig | undefined;
  /**
   * Gemini's API, served at `POST /v1beta/models/{model}:generateContent` (and
   * `:streamGenerateContent`); `baseUrl` is the host (`https://generativelanguage.googleapis.com`).
   * @default as `anthropic`
   */
  readonly gemini?: UpstreamConfig | undefined;
  /** Quotas shared by every replica through Redis. @default in memory (this process) */
  readonly redisUrl?: string | undefined;
  /** A PostgreSQL server. @default an embedded PGlite */
  readonly databaseUrl?: string | undefined;
  /** Where the embedded PGlite keeps its files. @default in memory */
  readonly dataDir?: string | undefined;
  /** An admin key created (or kept) at start, e.g. from `GATEWAY_ADMIN_KEY`. */
  readonly adminKey?: string | undefined;
  readonly keys?: readonly GatewayKeyConfig[] | undefined;
  /** Limits of keys that have none of their own. @default `DEFAULT_KEY_LIMITS` */
  readonly defaultLimits?: ResourceLimits | undefined;
  readonly jwt?: JwtConfig | undefined;
  /** Origins allowed by CORS (`true`: any). @default none (no CORS headers) */
  readonly corsOrigins?: readonly string[] | true | undefined;
  /** Largest request body, bytes. @default 1_048_576 */
  readonly bodyLimitBytes?: number | undefined;
  /**
   * Proxies whose `X-Forwarded-For` is believed (addresses or CIDRs). Without one the client
   * address is the socket's. @default none
   */
  readonly trustedProxies?: readonly string[] | undefined;
  readonly ipBlock?: IpBlockConfig | undefined;
  /** How long a key lookup is cached in this process, ms (revocations elsewhere take this long). @default 2_000 */
  readonly keyCacheMs?: number | undefined;
  /** Output tokens reserved when a request sets no `max_tokens`. @default 1_024 */
  readonly defaultMaxTokens?: number | undefined;
  /** Serve the OpenAPI document and Swagger UI at `/docs`. @default true */
  readonly docs?: boolean | undefined;
  /** The multi-agent conversation service: agents, default and largest counts. */
  readonly conversations?: ConversationsConfig | undefined;
}

/** The provider quota assumed for the embedded simulator (which enforces the same). */
export const DEFAULT_PROVIDER_LIMITS = {
  maxRequestsPerMinute: 120,
  maxTokensPerMinute: 400_000,
  algorithm: 'sliding-window',
  windowPaddingMs: 5,
  resourceWaitTimeoutSeconds: 60,
} as const satisfies ResourceLimits;

/** Limits of a key that has none of its own. */
export const DEFAULT_KEY_LIMITS = {
  maxRequestsPerMinute: 60,
  maxTokensPerMinute: 100_000,
  maxConcurrentTasks: 8,
} as const satisfies ResourceLimits;

/** Defaults of {@link GatewayConfig}. */
export const GATEWAY_DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  maxAttempts: 3,
  timeoutMs: 120_000,
  charging: 'admission',
  maxFailures: 10,
  failureWindowMs: 60_000,
  blockMs: 300_000,
  bodyLimitBytes: 1_048_576,
  keyCacheMs: 2_000,
  defaultMaxTokens: 1_024,
  simulatorApiKey: 'sk-simulator',
} as const;
