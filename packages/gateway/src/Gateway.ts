// Starts a gateway: upstream (or the embedded simulator), database, quota store, governors, HTTP.
import { readFileSync } from 'node:fs';
import { costOf } from '@tollgate/agents';
import {
  type Clock,
  ConsoleLogger,
  type Logger,
  systemClock,
  TiktokenCounter,
  type TokenCounter,
} from '@tollgate/core';
import { MemoryQuotaStore, type QuotaStore, RedisQuotaStore } from '@tollgate/limits';
import { CircuitBreaker } from '@tollgate/llm-clients';
import { type Simulator, type SimulatorOptions, startSimulator } from '@tollgate/simulator';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildGatewayApp } from './app.js';
import { Authenticator } from './auth/Authenticator.js';
import { IpBlocker } from './auth/IpBlocker.js';
import { checkConfigObject } from './config/configFile.js';
import {
  GATEWAY_DEFAULTS as D,
  DEFAULT_KEY_LIMITS,
  DEFAULT_PROVIDER_LIMITS,
  type GatewayConfig,
} from './config/GatewayConfig.js';
import { createConversations } from './conversations/createConversations.js';
import { openDatabase } from './db/Database.js';
import { migrate } from './db/migrations.js';
import { Governance } from './governance/Governance.js';
import { bootstrapKeys } from './keys/bootstrapKeys.js';
import { KeyStore } from './keys/KeyStore.js';
import { UsageRecorder } from './keys/UsageRecorder.js';
import { ChatProxy } from './proxy/ChatProxy.js';
import { providerProxies } from './proxy/providerProxies.js';
import type { GatewayServices, QuotaStoreHealth } from './services.js';

/** What a gateway runs with besides its settings. */
export interface GatewayDeps {
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default a ConsoleLogger at `info` */
  readonly logger?: Logger | undefined;
  /** @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** Options of the embedded simulator, when no upstream is configured. */
  readonly simulator?: SimulatorOptions | undefined;
  /**
   * A quota store of your own for every governor (instead of `redisUrl` or the in-memory
   * one). The gateway does not close it.
   */
  readonly quotaStore?: QuotaStore | undefined;
}

/** A running gateway. */
export interface Gateway {
  /** `http://HOST:PORT` */
  readonly url: string;
  /** `url + '/v1'`: an OpenAI client's `baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly services: GatewayServices;
  /** The embedded upstream, when no `upstream.baseUrl` was given. */
  readonly simulator: Simulator | undefined;
  /** Where the first admin key was written, when no key was configured. */
  readonly adminKeyFile: string | undefined;
  /** Stops listening, writes pending usage, closes the store, database and simulator. */
  close(): Promise<void>;
}

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

async function openQuotaStore(
  redisUrl: string | undefined,
  clock: Clock,
  own: QuotaStore | undefined,
): Promise<{ store: QuotaStore; health: QuotaStoreHealth; close(): Promise<void> }> {
  if (own) return { store: own, health: { kind: 'custom', ping: async () => {} }, close: async () => {} };
  if (!redisUrl) {
    const store = new MemoryQuotaStore(clock);
    return { store, health: { kind: 'memory', ping: async () => {} }, close: () => store.close() };
  }
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', () => {}); // outages reach the governors as store-unavailable events
  await redis.connect();
  const store = new RedisQuotaStore(redis);
  return {
    store,
    health: { kind: 'redis', ping: async () => void (await redis.ping()) },
    close: async () => {
      await store.close();
      redis.disconnect();
    },
  };
}

async function openUpstream(config: GatewayConfig, deps: GatewayDeps) {
  const up = config.upstream ?? {};
  if (up.baseUrl)
    return {
      baseUrl: up.baseUrl,
      apiKey: up.apiKey ?? D.simulatorApiKey,
      limits: up.limits ?? DEFAULT_PROVIDER_LIMITS,
      simulator: undefined,
    };
  const limits = up.limits ?? DEFAULT_PROVIDER_LIMITS;
  const simulator = await startSimulator({
    quota: {
      requestsPerWindow: limits.maxRequestsPerMinute,
      tokensPerWindow: limits.maxTokensPerMinute,
      windowMs: 60_000,
    },
    ...deps.simulator,
  });
  return { baseUrl: simulator.baseURL, apiKey: up.apiKey ?? D.simulatorApiKey, limits, simulator };
}

/**
 * Starts a gateway with `config` (see `loadGatewayConfig` for flags and env). With nothing
 * configured it runs on its own: the provider simulator upstream, quotas in memory, data
 * in an in-memory PGlite, and a first admin key written to a private file.
 *
 * @throws GatewayConfigError naming the setting at fault.
 */
export async function startGateway(config: GatewayConfig = {}, deps: GatewayDeps = {}): Promise<Gateway> {
  const c = checkConfigObject(config, 'GatewayConfig');
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? new ConsoleLogger({ level: 'info' });
  const upstream = await openUpstream(c, deps);
  const db = await openDatabase({ url: c.databaseUrl, dataDir: c.dataDir });
  await migrate(db);
  const keys = new KeyStore(db);
  const { adminKeyFile } = await bootstrapKeys(keys, c.keys ?? [], c.adminKey, logger);
  const quota = await openQuotaStore(c.redisUrl, clock, deps.quotaStore);
  const services = makeServices(
    c,
    { clock, logger, counter: deps.tokenCounter ?? new TiktokenCounter() },
    { db, keys, quota, upstream },
  );
  await services.conversations.failStale();
  const app = await buildGatewayApp(services, {
    bodyLimitBytes: c.bodyLimitBytes ?? D.bodyLimitBytes,
    corsOrigins: c.corsOrigins,
    trustedProxies: c.trustedProxies,
    docs: c.docs ?? true,
    version: VERSION,
  });
  const host = c.host ?? D.host;
  await app.listen({ port: c.port ?? D.port, host });
  const port = (app.server.address() as { port: number }).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('tollgate gateway listening', {
    url,
    upstream: upstream.simulator ? 'embedded simulator' : 'configured',
    quotaStore: quota.health.kind,
    database: db.kind,
  });
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    app,
    services,
    simulator: upstream.simulator,
    adminKeyFile,
    async close() {
      await services.conversations.close();
      await app.close();
      services.governance.dispose();
      await services.usage.close();
      await quota.close();
      await db.close();
      await upstream.simulator?.close();
    },
  };
}

function makeServices(
  c: GatewayConfig,
  env: { clock: Clock; logger: Logger; counter: TokenCounter },
  parts: {
    db: GatewayServices['db'];
    keys: KeyStore;
    quota: { store: QuotaStore; health: QuotaStoreHealth };
    upstream: Awaited<ReturnType<typeof openUpstream>>;
  },
): GatewayServices {
  const { clock, logger } = env;
  const governance = new Governance({
    store: parts.quota.store,
    providerLimits: parts.upstream.limits,
    defaultLimits: c.defaultLimits ?? DEFAULT_KEY_LIMITS,
    clock,
    logger,
  });
  const breaker = new CircuitBreaker('upstream', {}, clock);
  const usage = new UsageRecorder(parts.keys, clock, logger);
  const upstream = {
    baseUrl: parts.upstream.baseUrl,
    apiKey: parts.upstream.apiKey,
    timeoutMs: c.upstream?.timeoutMs ?? D.timeoutMs,
    transport: c.upstream?.transport,
  };
  const block = c.ipBlock ?? {};
  return {
    db: parts.db,
    keys: parts.keys,
    usage,
    authenticator: new Authenticator({
      keys: parts.keys,
      jwt: c.jwt,
      cacheMs: c.keyCacheMs ?? D.keyCacheMs,
      clock,
    }),
    blocker: new IpBlocker(
      {
        maxFailures: block.maxFailures ?? D.maxFailures,
        windowMs: block.windowMs ?? D.failureWindowMs,
        blockMs: block.blockMs ?? D.blockMs,
      },
      clock,
    ),
    governance,
    proxy: new ChatProxy({
      upstream,
      governance,
      breaker,
      usage,
      counter: env.counter,
      defaultMaxTokens: c.defaultMaxTokens ?? D.defaultMaxTokens,
      maxAttempts: c.upstream?.maxAttempts ?? D.maxAttempts,
      charging: c.upstream?.charging ?? D.charging,
      costOf: (model, u) => costOf(model, u),
      logger,
    }),
    providers: providerProxies(c, parts.upstream.simulator?.url, {
      governance,
      usage,
      clock,
      logger,
      costOf: (model, u) => costOf(model, u),
    }),
    breaker,
    upstream,
    quotaStore: parts.quota.health,
    clock,
    logger,
    conversations: createConversations(
      {
        ...{ db: parts.db, governance, breaker, usage, upstream, counter: env.counter, clock, logger },
        charging: c.upstream?.charging ?? D.charging,
        maxAttempts: c.upstream?.maxAttempts ?? D.maxAttempts,
      },
      c.conversations,
    ),
  };
}
