// Reads and checks a GATEWAY_CONFIG file (JSON or YAML): keys, permissions, limits and settings.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkConversationsConfig } from '../conversations/config.js';
import { GatewayConfigError } from '../errors.js';
import type {
  GatewayConfig,
  GatewayKeyConfig,
  IpBlockConfig,
  JwtConfig,
  UpstreamConfig,
} from './GatewayConfig.js';
import {
  booleanSetting,
  integerIn,
  limitsSetting,
  oneOfSetting,
  permissionsSetting,
  sectionSetting,
  shown,
  stringListSetting,
  stringSetting,
  urlSetting,
} from './settings.js';

const TOP = [
  'port',
  'host',
  'upstream',
  'anthropic',
  'gemini',
  'redisUrl',
  'databaseUrl',
  'dataDir',
  'adminKey',
  'keys',
  'defaultLimits',
  'jwt',
  'corsOrigins',
  'bodyLimitBytes',
  'trustedProxies',
  'ipBlock',
  'keyCacheMs',
  'defaultMaxTokens',
  'docs',
  'conversations',
];
const MAX_MS = 2 ** 31 - 1;

/** Parses `path` as YAML (`.yaml`, `.yml`) or JSON and checks every field. */
export function readConfigFile(path: string, setting = 'GATEWAY_CONFIG'): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GatewayConfigError(
      setting,
      'a readable JSON or YAML file',
      `${shown(path)} (${(error as Error).message})`,
    );
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new GatewayConfigError(
      setting,
      'valid JSON or YAML',
      `${shown(path)} (${(error as Error).message})`,
    );
  }
  return checkConfigObject(data, setting);
}

/** Checks a config object; errors name the field as `SOURCE:field.path`. */
export function checkConfigObject(data: unknown, source: string): GatewayConfig {
  const v = sectionSetting(source, data, TOP, ':').optional;
  return {
    port: v('port', integerIn(0, 65_535)),
    host: v('host', (n, x) => stringSetting(n, x)),
    upstream: v('upstream', checkUpstream),
    anthropic: v('anthropic', checkUpstream),
    gemini: v('gemini', checkUpstream),
    redisUrl: v('redisUrl', (n, x) => urlSetting(n, x, ['redis', 'rediss'])),
    databaseUrl: v('databaseUrl', (n, x) => urlSetting(n, x, ['postgres', 'postgresql'])),
    dataDir: v('dataDir', (n, x) => stringSetting(n, x)),
    adminKey: v('adminKey', (n, x) => stringSetting(n, x, true, 16)),
    keys: v('keys', checkKeys),
    defaultLimits: v('defaultLimits', limitsSetting),
    jwt: v('jwt', checkJwt),
    corsOrigins: v('corsOrigins', (n, x) => (x === true ? true : stringListSetting(n, x))),
    bodyLimitBytes: v('bodyLimitBytes', integerIn(1, 1 << 30)),
    trustedProxies: v('trustedProxies', stringListSetting),
    ipBlock: v('ipBlock', checkIpBlock),
    keyCacheMs: v('keyCacheMs', integerIn(0, MAX_MS)),
    defaultMaxTokens: v('defaultMaxTokens', integerIn(1, 10_000_000)),
    docs: v('docs', booleanSetting),
    conversations: v('conversations', checkConversationsConfig),
  };
}

function checkUpstream(name: string, value: unknown): UpstreamConfig {
  const v = sectionSetting(name, value, [
    'baseUrl',
    'apiKey',
    'limits',
    'maxAttempts',
    'timeoutMs',
    'charging',
    'transport',
  ]).optional;
  return {
    baseUrl: v('baseUrl', (n, x) => urlSetting(n, x, ['http', 'https'])),
    apiKey: v('apiKey', (n, x) => stringSetting(n, x, true)),
    limits: v('limits', limitsSetting),
    maxAttempts: v('maxAttempts', integerIn(1, 20)),
    timeoutMs: v('timeoutMs', integerIn(1, MAX_MS)),
    charging: v('charging', (n, x) => oneOfSetting(n, x, ['admission', 'usage'] as const)),
    transport: v('transport', (n, x) => oneOfSetting(n, x, ['agent', 'fetch'] as const)),
  };
}

function checkKeys(name: string, value: unknown): GatewayKeyConfig[] {
  if (!Array.isArray(value)) throw new GatewayConfigError(name, 'an array of keys', shown(value));
  const names = new Set<string>();
  return value.map((entry, i) => {
    const at = `${name}[${i}]`;
    const { fields: o, optional: v } = sectionSetting(at, entry, [
      'name',
      'key',
      'keyHash',
      'permissions',
      'limits',
    ]);
    const keyName = stringSetting(`${at}.name`, o.name);
    if (names.has(keyName))
      throw new GatewayConfigError(`${at}.name`, 'a name no other key has', shown(keyName));
    names.add(keyName);
    if ((o.key === undefined) === (o.keyHash === undefined))
      throw new GatewayConfigError(at, 'exactly one of `key` and `keyHash`', 'both or neither');
    if (o.keyHash !== undefined && !/^[0-9a-f]{64}$/.test(String(o.keyHash)))
      throw new GatewayConfigError(
        `${at}.keyHash`,
        'a SHA-256 digest in lowercase hex',
        shown(o.keyHash, true),
      );
    return {
      name: keyName,
      key: v('key', (n, x) => stringSetting(n, x, true, 16)),
      keyHash: o.keyHash as string | undefined,
      permissions: v('permissions', permissionsSetting),
      limits: v('limits', limitsSetting),
    };
  });
}

function checkJwt(name: string, value: unknown): JwtConfig {
  const { fields: o, optional: v } = sectionSetting(name, value, [
    'secret',
    'publicKey',
    'issuer',
    'audience',
  ]);
  if ((o.secret === undefined) === (o.publicKey === undefined))
    throw new GatewayConfigError(
      name,
      'exactly one of `secret` (HS256) and `publicKey` (RS256)',
      'both or neither',
    );
  const text = (n: string, x: unknown) => stringSetting(n, x);
  return {
    secret: v('secret', (n, x) => stringSetting(n, x, true, 32)),
    publicKey: v('publicKey', text),
    issuer: v('issuer', text),
    audience: v('audience', text),
  };
}

function checkIpBlock(name: string, value: unknown): IpBlockConfig {
  const v = sectionSetting(name, value, ['maxFailures', 'windowMs', 'blockMs']).optional;
  return {
    maxFailures: v('maxFailures', integerIn(1, MAX_MS)),
    windowMs: v('windowMs', integerIn(1, MAX_MS)),
    blockMs: v('blockMs', integerIn(1, MAX_MS)),
  };
}
