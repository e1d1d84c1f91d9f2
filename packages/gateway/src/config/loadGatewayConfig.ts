// Builds the gateway's settings from flags, env and GATEWAY_CONFIG (in that order of precedence).
import { parseArgs } from 'node:util';
import { GatewayConfigError } from '../errors.js';
import { readConfigFile } from './configFile.js';
import type { GatewayConfig } from './GatewayConfig.js';
import { integerSetting, shown, stringSetting, urlSetting } from './settings.js';

/** The flags `tollgate-gateway` takes; each has an env variable. */
export const GATEWAY_FLAGS = {
  port: 'GATEWAY_PORT',
  host: 'GATEWAY_HOST',
  config: 'GATEWAY_CONFIG',
  'upstream-base-url': 'UPSTREAM_BASE_URL',
  'anthropic-base-url': 'ANTHROPIC_UPSTREAM_BASE_URL',
  'gemini-base-url': 'GEMINI_UPSTREAM_BASE_URL',
  'redis-url': 'REDIS_URL',
  'database-url': 'DATABASE_URL',
  'data-dir': 'GATEWAY_DATA_DIR',
} as const;

/** Where the settings come from. */
export interface LoadGatewayConfigOptions {
  /** Command-line arguments, without `node` and the script. @default [] */
  readonly argv?: readonly string[] | undefined;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A flag's value, or its env variable's; names the one it came from. */
type Source = (flag: keyof typeof GATEWAY_FLAGS) => { name: string; value: string } | undefined;

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.keys(GATEWAY_FLAGS).map((f) => [f, { type: 'string' as const }]));
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true })
      .values;
  } catch (error) {
    const flag = /'(--[^']+)'/.exec((error as Error).message)?.[1] ?? 'the command line';
    throw new GatewayConfigError(
      flag,
      `one of ${Object.keys(GATEWAY_FLAGS)
        .map((f) => `--${f}`)
        .join(', ')}`,
      'an unknown flag or a flag without a value',
    );
  }
}

/**
 * The gateway's settings: `--flags` first, then env (`GATEWAY_PORT`, `UPSTREAM_BASE_URL`,
 * `UPSTREAM_API_KEY`, `ANTHROPIC_UPSTREAM_BASE_URL`, `ANTHROPIC_UPSTREAM_API_KEY`,
 * `GEMINI_UPSTREAM_BASE_URL`, `GEMINI_UPSTREAM_API_KEY`, `REDIS_URL`, `DATABASE_URL`, `GATEWAY_CONFIG`, `GATEWAY_ADMIN_KEY`,
 * `GATEWAY_DATA_DIR`, `GATEWAY_HOST`), then the config file, then defaults.
 *
 * @throws GatewayConfigError naming the flag, variable or file field at fault.
 */
export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const flags = parseFlags(options.argv ?? []);
  const source: Source = (flag) => {
    const fromFlag = flags[flag];
    if (typeof fromFlag === 'string') return { name: `--${flag}`, value: fromFlag };
    const variable = GATEWAY_FLAGS[flag];
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : { name: variable, value: fromEnv };
  };
  const file = source('config');
  const base = file ? readConfigFile(file.value, file.name) : {};
  return { ...base, ...fromSources(source, env, base) };
}

function fromSources(
  source: Source,
  env: LoadGatewayConfigOptions['env'] & object,
  base: GatewayConfig,
): GatewayConfig {
  const read = <T>(
    flag: keyof typeof GATEWAY_FLAGS,
    check: (name: string, value: string) => T,
  ): T | undefined => {
    const s = source(flag);
    return s ? check(s.name, s.value) : undefined;
  };
  const out: Record<string, unknown> = {
    port: read('port', (n, v) => integerSetting(n, v, 0, 65_535)),
    host: read('host', (n, v) => stringSetting(n, v)),
    redisUrl: read('redis-url', (n, v) => urlSetting(n, v, ['redis', 'rediss'])),
    databaseUrl: read('database-url', (n, v) => urlSetting(n, v, ['postgres', 'postgresql'])),
    dataDir: read('data-dir', (n, v) => stringSetting(n, v)),
  };
  const upstreams = [
    ['upstream', 'upstream-base-url', 'UPSTREAM_API_KEY'],
    ['anthropic', 'anthropic-base-url', 'ANTHROPIC_UPSTREAM_API_KEY'],
    ['gemini', 'gemini-base-url', 'GEMINI_UPSTREAM_API_KEY'],
  ] as const;
  for (const [field, flag, keyVariable] of upstreams) {
    const baseUrl = read(flag, (n, v) => urlSetting(n, v, ['http', 'https']));
    const apiKey = env[keyVariable];
    if (baseUrl === undefined && apiKey === undefined) continue;
    if (apiKey !== undefined && apiKey.trim() === '')
      throw new GatewayConfigError(keyVariable, 'a non-empty string', shown(apiKey, true));
    out[field] = { ...base[field], ...(baseUrl ? { baseUrl } : {}), ...(apiKey ? { apiKey } : {}) };
  }
  const adminKey = env.GATEWAY_ADMIN_KEY;
  if (adminKey !== undefined && adminKey !== '')
    out.adminKey = stringSetting('GATEWAY_ADMIN_KEY', adminKey, true, 16);
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as GatewayConfig;
}
