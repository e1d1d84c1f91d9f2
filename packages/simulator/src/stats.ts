/** What the simulator has seen, from `stats()` or `GET /stats`. */
export interface SimulatorStats {
  /** Chat requests received (valid or not). */
  requests: number;
  /** Requests admitted by the quota and answered. */
  admitted: number;
  /** 429s caused by the quota. */
  rateLimited: number;
  /** 429s `insufficient_quota`: the key's `requestBudget` was used up. */
  quotaExhausted: number;
  /** 401s. */
  unauthorized: number;
  /** 400s and 413s. */
  badRequests: number;
  /** Faults injected. */
  faults: { error500: number; error503: number; reset: number; slow: number; foreign429: number };
  /** Requests aborted by the client before the response was sent. */
  clientAborts: number;
  tokens: { prompt: number; completion: number; charged: number };
  /** The most requests and tokens inside one window of any key (or sub-window). */
  maxRequestsInWindow: number;
  maxTokensInWindow: number;
  /** Most requests being served at once. */
  maxConcurrent: number;
  /**
   * Simulator-clock times (ms) of the first and the last admission, `null` before any: the
   * span over which a run used the quota, whatever its replies' latency.
   */
  firstAdmissionMs: number | null;
  lastAdmissionMs: number | null;
}

export function emptyStats(): SimulatorStats {
  return {
    requests: 0,
    admitted: 0,
    rateLimited: 0,
    quotaExhausted: 0,
    unauthorized: 0,
    badRequests: 0,
    faults: { error500: 0, error503: 0, reset: 0, slow: 0, foreign429: 0 },
    clientAborts: 0,
    tokens: { prompt: 0, completion: 0, charged: 0 },
    maxRequestsInWindow: 0,
    maxTokensInWindow: 0,
    maxConcurrent: 0,
    firstAdmissionMs: null,
    lastAdmissionMs: null,
  };
}
