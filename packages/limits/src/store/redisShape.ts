// How the Redis quota store calls its scripts: their SHAs, a quota's keys, and the arguments they share.
import { createHash } from 'node:crypto';
import type { QuotaConfig, StoreRate } from './QuotaStore.js';
import { ABANDON, ACQUIRE, COOLDOWN, RELEASE, RENEW, SETTLE, STATUS, TAKE } from './redisScripts.js';

/** A Lua script and its SHA1, for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });

/** The scripts of the Redis quota store. */
export const SCRIPTS = {
  acquire: script(ACQUIRE),
  abandon: script(ABANDON),
  settle: script(SETTLE),
  release: script(RELEASE),
  renew: script(RENEW),
  cooldown: script(COOLDOWN),
  take: script(TAKE),
  status: script(STATUS),
};

/** What every call for one quota config shares, computed once per config. */
export interface QuotaShape {
  /** The quota's keys (see redisCommon.ts), all under the hash tag `{quota}`. */
  readonly keys: readonly string[];
  /** The arguments every ACQUIRE of it starts with; the fifth, the number of requests, is set per call. */
  readonly acquireArgs: readonly (string | number)[];
  /** Attempt keys are this followed by a counter: the store's random id makes them unique across processes. */
  readonly attemptPrefix: string;
}

/** The shape of `config` for a store with key prefix `prefix` and id `storeId`. */
export function quotaShape(prefix: string, storeId: string, config: QuotaConfig): QuotaShape {
  const base = `${prefix}:{${config.quota}}`;
  const keys = [
    `${base}:cooldown`,
    `${base}:slots`,
    ...config.rates.flatMap((r) => [`${base}:r:${r.name}`, `${base}:t:${r.name}`]),
    `${base}:epoch`,
  ];
  const acquireArgs = [
    config.rates.length,
    config.maxSlots ?? -1,
    config.slotTtlMs,
    config.holdTtlMs,
    0,
    config.recoveryHoldMs,
    config.deferMs ?? 0,
    ...rateArgs(config.rates),
  ];
  return { keys, acquireArgs, attemptPrefix: `${base}:a:${storeId}:` };
}

/** The script's name of a rate's algorithm. */
export function alg(rate: StoreRate): 's' | 'b' {
  return rate.algorithm === 'sliding-window' ? 's' : 'b';
}

/** Per rate: algorithm, limit, window, capacity. */
export function rateArgs(rates: readonly StoreRate[]): (string | number)[] {
  return rates.flatMap((r) => [alg(r), r.limit, r.windowMs, r.capacity]);
}
