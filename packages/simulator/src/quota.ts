// One API key's quota in the simulator, and the rate-limit headers it sends.
import type { SimulatorQuota } from './options.js';
import { StrictWindow } from './StrictWindow.js';

/** Why a request was refused, and when to come back. */
export interface QuotaRefusal {
  readonly kind: 'requests' | 'tokens';
  readonly retryAfterMs: number;
  readonly limit: number;
}

/** The rate-limit headers a real provider sends, for one key. */
export type RateLimitHeaders = Record<string, string>;

/** Formats ms the way OpenAI's reset headers do: `20ms`, `1.5s`, `6m0s`. */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${Number(totalSeconds.toFixed(3))}s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes}m${Number((totalSeconds - minutes * 60).toFixed(3))}s`;
}

function windows(limit: number | undefined, windowMs: number, subWindows: number): StrictWindow[] {
  if (limit === undefined) return [];
  const list = [new StrictWindow(limit, windowMs)];
  if (subWindows > 1) list.push(new StrictWindow(Math.ceil(limit / subWindows), windowMs / subWindows));
  return list;
}

/** One API key's quota: strict windows for requests and for tokens (and their sub-windows). */
export class KeyQuota {
  readonly requests: StrictWindow[];
  readonly tokens: StrictWindow[];
  readonly #budget: number;
  #admitted = 0;

  constructor(quota: SimulatorQuota, defaultWindowMs: number) {
    this.#budget = quota.requestBudget ?? Number.POSITIVE_INFINITY;
    const windowMs = quota.windowMs ?? defaultWindowMs;
    const sub = quota.subWindows ?? 1;
    this.requests = windows(quota.requestsPerWindow, windowMs, sub);
    this.tokens = windows(quota.tokensPerWindow, windowMs, sub);
  }

  /** The refusal with the longest wait, or undefined when the request fits now. */
  check(tokens: number, now: number): QuotaRefusal | undefined {
    let worst: QuotaRefusal | undefined;
    for (const [kind, list, weight] of [
      ['requests', this.requests, 1],
      ['tokens', this.tokens, tokens],
    ] as const) {
      for (const w of list) {
        const retryAfterMs = w.retryAfterMs(weight, now);
        if (retryAfterMs > 0 && (!worst || retryAfterMs > worst.retryAfterMs)) {
          worst = { kind, retryAfterMs, limit: w.limit };
        }
      }
    }
    return worst;
  }

  /** The full-window token limit, if any (a larger request can never be admitted). */
  get tokenLimit(): number | undefined {
    return this.tokens[0]?.limit;
  }

  /** Whether the key has used up its `requestBudget`: no window will help. */
  get exhausted(): boolean {
    return this.#admitted >= this.#budget;
  }

  admit(tokens: number, now: number): void {
    this.#admitted++;
    for (const w of this.requests) w.add(1, now);
    for (const w of this.tokens) w.add(tokens, now);
  }

  headers(now: number): RateLimitHeaders {
    const out: RateLimitHeaders = {};
    for (const [kind, w] of [
      ['requests', this.requests[0]],
      ['tokens', this.tokens[0]],
    ] as const) {
      if (!w) continue;
      out[`x-ratelimit-limit-${kind}`] = String(w.limit);
      out[`x-ratelimit-remaining-${kind}`] = String(w.remaining(now));
      out[`x-ratelimit-reset-${kind}`] = formatReset(w.resetMs(now));
    }
    return out;
  }

  maxSeen(): { requests: number; tokens: number } {
    return {
      requests: Math.max(0, ...this.requests.slice(0, 1).map((w) => w.maxSeen)),
      tokens: Math.max(0, ...this.tokens.slice(0, 1).map((w) => w.maxSeen)),
    };
  }
}
