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
  integerSetting,
  limitsSetting,
  objectSetting,
  permissionsSetting,
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
  const at = (field: string) => `${source}:${field}`;
  const o = objectSetting(source, data, TOP, ':');
  const v = <T>(field: string, check: (name: string, value: unknown) => T): T | undefined =>
    o[field] === undefined ? undefined : check(at(field), o[field]);
  return {
    port: v('port', (n, x) => integerSetting(n, x, 0, 65_535)),
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
    bodyLimitBytes: v('bodyLimitBytes', (n, x) => integerSetting(n, x, 1, 1 << 30)),
    trustedProxies: v('trustedProxies', stringListSetting),
    ipBlock: v('ipBlock', checkIpBlock),
    keyCacheMs: v('keyCacheMs', (n, x) => integerSetting(n, x, 0, MAX_MS)),
    defaultMaxTokens: v('defaultMaxTokens', (n, x) => integerSetting(n, x, 1, 10_000_000)),
    docs: v('docs', booleanSetting),
    conversations: v('conversations', checkConversationsConfig),
  };
}

function checkUpstream(name: string, value: unknown): UpstreamConfig {
  const o = objectSetting(name, value, [
    'baseUrl',
    'apiKey',
    'limits',
    'maxAttempts',
    'timeoutMs',
    'charging',
    'transport',
  ]);
  const { charging, transport } = o;
  if (charging !== undefined && charging !== 'admission' && charging !== 'usage')
    throw new GatewayConfigError(`${name}.charging`, "'admission' or 'usage'", shown(charging));
  if (transport !== undefined && transport !== 'agent' && transport !== 'fetch')
    throw new GatewayConfigError(`${name}.transport`, "'agent' or 'fetch'", shown(transport));
  return {
    baseUrl:
      o.baseUrl === undefined ? undefined : urlSetting(`${name}.baseUrl`, o.baseUrl, ['http', 'https']),
    apiKey: o.apiKey === undefined ? undefined : stringSetting(`${name}.apiKey`, o.apiKey, true),
    limits: o.limits === undefined ? undefined : limitsSetting(`${name}.limits`, o.limits),
    maxAttempts:
      o.maxAttempts === undefined ? undefined : integerSetting(`${name}.maxAttempts`, o.maxAttempts, 1, 20),
    timeoutMs:
      o.timeoutMs === undefined ? undefined : integerSetting(`${name}.timeoutMs`, o.timeoutMs, 1, MAX_MS),
    charging,
    transport,
  };
}

function checkKeys(name: string, value: unknown): GatewayKeyConfig[] {
  if (!Array.isArray(value)) throw new GatewayConfigError(name, 'an array of keys', shown(value));
  const names = new Set<string>();
  return value.map((entry, i) => {
    const at = `${name}[${i}]`;
    const o = objectSetting(at, entry, ['name', 'key', 'keyHash', 'permissions', 'limits']);
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
      key: o.key === undefined ? undefined : stringSetting(`${at}.key`, o.key, true, 16),
      keyHash: o.keyHash as string | undefined,
      permissions:
        o.permissions === undefined ? undefined : permissionsSetting(`${at}.permissions`, o.permissions),
      limits: o.limits === undefined ? undefined : limitsSetting(`${at}.limits`, o.limits),
    };
  });
}

function checkJwt(name: string, value: unknown): JwtConfig {
  const o = objectSetting(name, value, ['secret', 'publicKey', 'issuer', 'audience']);
  if ((o.secret === undefined) === (o.publicKey === undefined))
    throw new GatewayConfigError(
      name,
      'exactly one of `secret` (HS256) and `publicKey` (RS256)',
      'both or neither',
    );
  return {
    secret: o.secret === undefined ? undefined : stringSetting(`${name}.secret`, o.secret, true, 32),
    publicKey: o.publicKey === undefined ? undefined : stringSetting(`${name}.publicKey`, o.publicKey),
    issuer: o.issuer === undefined ? undefined : stringSetting(`${name}.issuer`, o.issuer),
    audience: o.audience === undefined ? undefined : stringSetting(`${name}.audience`, o.audience),
  };
}

function checkIpBlock(name: string, value: unknown): IpBlockConfig {
  const o = objectSetting(name, value, ['maxFailures', 'windowMs', 'blockMs']);
  const n = (field: string, min: number) =>
    o[field] === undefined ? undefined : integerSetting(`${name}.${field}`, o[field], min, MAX_MS);
  return { maxFailures: n('maxFailures', 1), windowMs: n('windowMs', 1), blockMs: n('blockMs', 1) };
}
