// The governors of the gateway: one per client key (reject mode) and the provider's, shared by all.
import { createHash } from 'node:crypto';
import {
  type Clock,
  type Logger,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  systemClock,
} from '@tollgate/core';
import {
  DistributedGovernor,
  type Governor,
  type GovernorLease,
  type QuotaStore,
  type ResourceLimits,
} from '@tollgate/limits';
import type { Principal } from '../auth/Principal.js';
import { HttpError } from '../errors.js';
import { rateLimitHeaders, retryAfterHeaders } from './rateLimitHeaders.js';

/** Options of {@link Governance}. */
export interface GovernanceOptions {
  readonly store: QuotaStore;
  /** The provider's quota for the upstream key. */
  readonly providerLimits: ResourceLimits;
  /** Limits of principals without their own. */
  readonly defaultLimits: ResourceLimits;
  /** Prefix of every quota name in the store. @default 'gateway' */
  readonly prefix?: string | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

/** What a call reserves on a provider's quota besides one request. */
export interface ProviderCost {
  /** Prompt + max output tokens. */
  readonly tokens: number;
  /** The prompt alone, for input token limits (Anthropic's ITPM). */
  readonly inputTokens?: number | undefined;
  /** Max output tokens alone, for output token limits (Anthropic's OTPM). */
  readonly outputTokens?: number | undefined;
}

/** What a client's request holds while it runs. */
export interface Admission {
  readonly keyGovernor: Governor;
  readonly keyLease: GovernorLease;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/**
 * Each request passes its principal's governor first, in reject mode (over its limit it
 * is answered 429 at once and never forwarded), then the provider's governor, which
 * queues it until the shared quota has room. Quotas live in one `QuotaStore`, so replicas
 * sharing a Redis share every limit.
 */
export class Governance {
  /** The provider's quota, shared by every client and replica. */
  readonly provider: Governor;
  readonly #options: GovernanceOptions;
  readonly #keys = new Map<string, Governor>();
  /** The wait-mode twins of key governors (see `keyWaitingGovernor`), by quota. */
  readonly #waiting = new Map<string, Governor>();
  readonly #providers = new Map<string, Governor>();
  readonly #watchers = new Set<(governor: Governor) => void>();
  readonly #prefix: string;

  constructor(options: GovernanceOptions) {
    this.#options = options;
    this.#prefix = options.prefix ?? 'gateway';
    this.provider = new DistributedGovernor(options.providerLimits, {
      store: options.store,
      quota: `${this.#prefix}:provider:${digest(JSON.stringify(options.providerLimits))}`,
      name: 'provider',
      clock: options.clock ?? systemClock,
      logger: options.logger,
    });
  }

  /**
   * The governor of another upstream's quota (`anthropic`, `gemini`), made once per name:
   * shown as `provider:NAME` in metrics and the dashboard, shared by replicas like the rest.
   */
  addProvider(name: string, limits: ResourceLimits): Governor {
    const existing = this.#providers.get(name);
    if (existing) return existing;
    const governor = new DistributedGovernor(limits, {
      store: this.#options.store,
      quota: `${this.#prefix}:provider:${name}:${digest(JSON.stringify(limits))}`,
      name: `provider:${name}`,
      clock: this.#options.clock ?? systemClock,
      logger: this.#options.logger,
    });
    this.#providers.set(name, governor);
    for (const watcher of this.#watchers) watcher(governor);
    return governor;
  }

  /** The governor of `principal`'s own limits (one per principal and limits, made on first use). */
  keyGovernor(principal: Principal): Governor {
    return this.#keyGovernor(principal, true);
  }

  /**
   * A governor over the same quota as {@link keyGovernor}, in wait mode: for work the gateway
   * runs for a principal (a conversation's agents), whose calls wait for the key's room
   * instead of being refused. Both count against one quota in the store. Named
   * `key:NAME:conversations`, it is watched like the others, so metrics and the dashboard
   * show those calls in a series of their own beside the key's.
   */
  keyWaitingGovernor(principal: Principal): Governor {
    return this.#keyGovernor(principal, false);
  }

  #keyGovernor(principal: Principal, reject: boolean): Governor {
    const limits = { ...(principal.limits ?? this.#options.defaultLimits), rejectOnLimit: true };
    // Keys are shared by name: replicas with their own databases and the same keys share quotas.
    const who = principal.kind === 'key' ? `key:${principal.name}` : principal.id;
    const quota = `${this.#prefix}:key:${digest(`${who}\n${JSON.stringify(limits)}`)}`;
    const made = reject ? this.#keys : this.#waiting;
    let governor = made.get(quota);
    if (!governor) {
      governor = new DistributedGovernor(reject ? limits : { ...limits, rejectOnLimit: false }, {
        store: this.#options.store,
        quota,
        name: reject ? `key:${principal.name}` : `key:${principal.name}:conversations`,
        clock: this.#options.clock ?? systemClock,
        logger: this.#options.logger,
      });
      made.set(quota, governor);
      for (const watcher of this.#watchers) watcher(governor);
    }
    return governor;
  }

  /**
   * Reserves one request and `tokens` (and a concurrency slot) on the principal's governor.
   * @throws HttpError 429 with retry-after and x-ratelimit-* of that key when over its limit.
   */
  async admitKey(principal: Principal, tokens: number, signal: AbortSignal): Promise<Admission> {
    const keyGovernor = this.keyGovernor(principal);
    try {
      const keyLease = await keyGovernor.acquire(
        { requests: 1, tokens, task: 1 },
        { signal, label: principal.name },
      );
      return { keyGovernor, keyLease };
    } catch (error) {
      if (!ResourceLimitExceededError.is(error)) throw error;
      throw overKeyLimit(principal, keyGovernor, error);
    }
  }

  /**
   * Waits for the provider's quota (held until settled: the provider counts the call when
   * it arrives). @throws HttpError 503 when the wait would pass the provider limits' wait timeout.
   */
  async admitProvider(
    tokens: number | ProviderCost,
    signal: AbortSignal,
    label: string,
    governor: Governor = this.provider,
  ): Promise<GovernorLease> {
    const cost = typeof tokens === 'number' ? { tokens } : tokens;
    try {
      return await governor.acquire({ requests: 1, ...cost }, { signal, holdUntilSettled: true, label });
    } catch (error) {
      if (ResourceWaitTimeoutError.is(error) || ResourceLimitExceededError.is(error)) {
        const retry = ResourceLimitExceededError.is(error) ? error.retryAfterMs : undefined;
        throw new HttpError(
          503,
          'upstream_quota_busy',
          'The provider quota shared by all clients is busy; try again later.',
          {
            type: 'server_error',
            headers: retryAfterHeaders(retry !== undefined && Number.isFinite(retry) ? retry : 1_000),
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /** Every governor made so far: the providers' first, then the keys' and their wait-mode twins. */
  governors(): Governor[] {
    return [this.provider, ...this.#providers.values(), ...this.#keys.values(), ...this.#waiting.values()];
  }

  /**
   * Calls `listener` with every governor made so far, then with each one made later (a key's
   * governor is made on its first request). @returns a function that stops the calls.
   */
  watchGovernors(listener: (governor: Governor) => void): () => void {
    for (const governor of this.governors()) listener(governor);
    this.#watchers.add(listener);
    return () => void this.#watchers.delete(listener);
  }

  dispose(): void {
    this.#watchers.clear();
    for (const g of this.governors()) g.dispose();
    this.#keys.clear();
    this.#waiting.clear();
    this.#providers.clear();
  }
}

function overKeyLimit(
  principal: Principal,
  governor: Governor,
  error: ResourceLimitExceededError,
): HttpError {
  const headers = rateLimitHeaders(governor.checkResourceAvailability());
  const wait = error.retryAfterMs;
  if (wait === Number.POSITIVE_INFINITY) {
    return new HttpError(
      429,
      'request_too_large',
      `The request is larger than this key's ${error.limit} limit allows at once.`,
      {
        type: 'requests',
        headers,
        cause: error,
      },
    );
  }
  return new HttpError(
    429,
    'rate_limit_exceeded',
    `Rate limit reached for key "${principal.name}": ${error.reason}.`,
    {
      type: 'requests',
      headers: { ...headers, ...retryAfterHeaders(wait ?? 1_000) },
      cause: error,
    },
  );
}
