// One running simulator's settings and state: what every route, fault and admission step reads.
import { type Clock, SystemClock, TiktokenCounter, type TokenCounter } from '@tollgate/core';
import { AnthropicQuota } from './anthropicQuota.js';
import { SIMULATOR_DEFAULTS, type SimulatorFaults, type SimulatorOptions } from './options.js';
import { KeyQuota } from './quota.js';
import { Random } from './Random.js';
import { emptyStats, type SimulatorStats } from './stats.js';

/** The latency model, with its defaults applied. */
export interface ResolvedLatency {
  readonly ttftMs: number;
  readonly perTokenMs: number;
  readonly jitter: number;
}

/**
 * A simulator's resolved options (defaults merged once) and its mutable state: the seeded
 * random source, each key's quota, the counters, the request sequence and the requests in flight.
 */
export class SimulatorContext {
  readonly clock: Clock;
  readonly counter: TokenCounter;
  /**
   * How the Anthropic route counts input: tiktoken's `cl100k_base`, a tokenizer other than
   * the clients' default (`o200k_base`), so that client estimates are checked against a
   * count they do not share, as with the real provider. @default options.tokenCounter if set
   */
  readonly anthropicCounter: TokenCounter;
  readonly seed: number;
  readonly faults: SimulatorFaults;
  readonly latency: ResolvedLatency;
  readonly completionTokens: readonly [number, number];
  readonly toolTurns: number;
  readonly apiKeys: ReadonlySet<string>;
  readonly models: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxOutputTokens: number;
  readonly defaultMaxTokens: number;
  readonly #options: SimulatorOptions;
  random: Random;
  stats: SimulatorStats = emptyStats();
  /** Requests being served now (admitted, reply not yet sent). */
  inFlight = 0;
  #quotas = new Map<string, KeyQuota>();
  #anthropicQuotas = new Map<string, AnthropicQuota>();
  #sequence = 0;

  /** Takes options already checked by `checkSimulatorOptions`. */
  constructor(options: SimulatorOptions) {
    const d = SIMULATOR_DEFAULTS;
    this.#options = options;
    this.clock = options.clock ?? new SystemClock();
    this.counter = options.tokenCounter ?? new TiktokenCounter();
    this.anthropicCounter = options.tokenCounter ?? new TiktokenCounter({ defaultEncoding: 'cl100k_base' });
    this.seed = options.seed ?? d.seed;
    this.faults = options.faults ?? {};
    this.latency = { ttftMs: d.ttftMs, perTokenMs: d.perTokenMs, jitter: d.jitter, ...options.latency };
    this.completionTokens = options.completionTokens ?? d.completionTokens;
    this.toolTurns = options.toolTurns ?? d.toolTurns;
    this.apiKeys = new Set(options.apiKeys ?? []);
    this.models = options.models ?? d.models;
    this.maxBodyBytes = options.maxBodyBytes ?? d.maxBodyBytes;
    this.maxOutputTokens = options.maxOutputTokens ?? d.maxOutputTokens;
    this.defaultMaxTokens = options.defaultMaxTokens ?? d.defaultMaxTokens;
    this.random = new Random(this.seed);
  }

  /** The quota of one API key, created on its first request. */
  quotaFor(key: string): KeyQuota {
    let quota = this.#quotas.get(key);
    if (!quota) {
      quota = new KeyQuota(this.#options.quota ?? {}, SIMULATOR_DEFAULTS.windowMs);
      this.#quotas.set(key, quota);
    }
    return quota;
  }

  /** The Anthropic route's quota of one API key (its buckets), created on its first request. */
  anthropicQuotaFor(key: string): AnthropicQuota {
    let quota = this.#anthropicQuotas.get(key);
    if (!quota) {
      quota = new AnthropicQuota(this.#options.quota ?? {}, SIMULATOR_DEFAULTS.windowMs);
      this.#anthropicQuotas.set(key, quota);
    }
    return quota;
  }

  /** The number of the next admitted request (never reset: request ids stay unique). */
  nextSequence(): number {
    return ++this.#sequence;
  }

  /** `ms` scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jittered(ms: number): number {
    const { jitter } = this.latency;
    return ms * (1 - jitter + 2 * jitter * this.random.next());
  }

  /** A copy of the counters. */
  snapshot(): SimulatorStats {
    return structuredClone(this.stats);
  }

  /** Zeroes the counters, forgets every key's quota usage and reseeds the random source. */
  reset(): void {
    this.stats = emptyStats();
    this.#quotas = new Map();
    this.#anthropicQuotas = new Map();
    this.random = new Random(this.seed);
  }
}
