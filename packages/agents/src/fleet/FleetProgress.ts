// FleetProgress: a fleet run's live progress, a redrawn line on a TTY, a periodic line elsewhere.
import {
  type Clock,
  checkOptions,
  type Logger,
  numberIn,
  optionRules,
  rule,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@tollgate/core';
import type { Subscription } from 'rxjs';
import type { AgentFleet } from './AgentFleet.js';
import { guarded } from './guarded.js';
import type { FleetEvent } from './types.js';

/** Where progress goes: a terminal (redrawn in place) or a log (plain lines). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Options of {@link FleetProgress}. */
export interface FleetProgressOptions {
  /** @default process.stderr */
  readonly stream?: ProgressStream | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** Redraw period on a terminal. @default 250 */
  readonly intervalMs?: number | undefined;
  /** Period of plain lines when not a terminal (CI). @default 5_000 */
  readonly plainIntervalMs?: number | undefined;
  /** Force terminal or plain output. @default the stream's `isTTY` */
  readonly tty?: boolean | undefined;
  /** Where a failure to draw (a stream whose `write` throws) is logged. @default silentLogger */
  readonly logger?: Logger | undefined;
  /** LLM calls a task makes, for the ETA. Minimum: 1. @default the average of the tasks finished so far */
  readonly callsPerTask?: number | undefined;
}

/**
 * A live progress line for a fleet run, fed by its events and the provider governor's
 * status: agents started / running / done, requests and tokens over the last window
 * against the limits, calls waiting for the quota, and an ETA (the calls left over the
 * provider's request rate, when it has one). On a terminal the line is redrawn in place;
 * elsewhere (CI) a plain line is printed every few seconds. Nothing it does can throw into
 * the fleet's stream: a failing `write` is logged and dropped.
 *
 * @throws InvalidArgumentError for an option of the wrong type or out of range.
 */
export class FleetProgress {
  readonly #fleet: AgentFleet;
  readonly #stream: ProgressStream;
  readonly #clock: Clock;
  readonly #tty: boolean;
  readonly #periodMs: number;
  readonly #observe: (event: FleetEvent) => void;
  readonly #draw: (final: boolean) => void;
  readonly #calls: Array<{ at: number; tokens: number }> = [];
  #subscription: Subscription | undefined;
  #timer: TimerHandle | undefined;
  #total: number | undefined;
  #startedAt = 0;
  #started = 0;
  #finished = 0;
  #failed = 0;
  #rateLimited = 0;
  #callsMade = 0;
  #callsOfFinished = 0;
  readonly #callsPerTask: number | undefined;

  constructor(fleet: AgentFleet, options: FleetProgressOptions = {}) {
    checkOptions('FleetProgress', options, {
      stream: rule(
        'an object with a write(text) method',
        (v) => typeof (v as ProgressStream)?.write === 'function',
      ),
      intervalMs: optionRules.positive,
      plainIntervalMs: optionRules.positive,
      tty: optionRules.boolean,
      callsPerTask: numberIn(1, Number.POSITIVE_INFINITY),
    });
    this.#fleet = fleet;
    const logger = options.logger ?? silentLogger;
    this.#observe = guarded(logger, 'FleetProgress', (event: FleetEvent) => this.#show(event));
    this.#draw = guarded(logger, 'FleetProgress', (final: boolean) => this.#write(final));
    this.#stream = options.stream ?? process.stderr;
    this.#clock = options.clock ?? systemClock;
    this.#tty = options.tty ?? this.#stream.isTTY === true;
    this.#periodMs = this.#tty ? (options.intervalMs ?? 250) : (options.plainIntervalMs ?? 5_000);
    this.#callsPerTask = options.callsPerTask;
  }

  /** Starts listening and drawing. */
  start(): this {
    if (this.#subscription) return this;
    this.#startedAt = this.#clock.now();
    this.#subscription = this.#fleet.events$.subscribe((event) => this.#observe(event));
    this.#schedule();
    return this;
  }

  /** Draws a last time and stops. */
  stop(): void {
    if (!this.#subscription) return;
    this.#subscription.unsubscribe();
    this.#subscription = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#draw(true);
  }

  /** The progress line now. */
  line(): string {
    const now = this.#clock.now();
    const provider = this.#fleet.providerGovernor?.checkResourceAvailability({});
    const requestsLimit = provider
      ? Object.values(provider.limits).find((l) => l.resource === 'requests')
      : undefined;
    const tokensLimit = provider
      ? Object.values(provider.limits).find((l) => l.resource === 'tokens')
      : undefined;
    const windowMs = requestsLimit?.windowMs ?? tokensLimit?.windowMs ?? 60_000;
    while (this.#calls.length > 0 && this.#calls[0]!.at <= now - windowMs) this.#calls.shift();
    const requests = this.#calls.length;
    const tokens = this.#calls.reduce((s, c) => s + c.tokens, 0);
    const running = this.#started - this.#finished;
    const parts = [
      `agents ${this.#started} started, ${running} running, ${this.#finished}${this.#total ? `/${this.#total}` : ''} done`,
      ...(this.#failed > 0 ? [`${this.#failed} failed`] : []),
      `requests ${requests}${requestsLimit ? `/${requestsLimit.limit}` : ''} per ${windowMs === 60_000 ? 'min' : formatMs(windowMs)}`,
      `tokens ${compact(tokens)}${tokensLimit ? `/${compact(tokensLimit.limit)}` : ''}`,
      ...(provider ? [`waiting for quota ${provider.queued}`] : []),
      `429s ${this.#rateLimited}`,
    ];
    const elapsed = now - this.#startedAt;
    const eta = this.#eta(elapsed, requestsLimit && requestsLimit.limit / requestsLimit.windowMs);
    if (eta !== undefined) parts.push(`ETA ${formatMs(eta)}`);
    parts.push(`elapsed ${formatMs(elapsed)}`);
    return parts.join(' | ');
  }

  /** The calls left over the request rate (per ms); without a rate, the pace of tasks so far. */
  #eta(elapsed: number, rate: number | undefined): number | undefined {
    if (!this.#total || this.#finished >= this.#total) return undefined;
    const perTask =
      this.#callsPerTask ?? (this.#finished > 0 ? this.#callsOfFinished / this.#finished : undefined);
    if (rate && perTask !== undefined) return Math.max(0, this.#total * perTask - this.#callsMade) / rate;
    return this.#finished > 0 ? ((this.#total - this.#finished) * elapsed) / this.#finished : undefined;
  }

  #show(event: FleetEvent): void {
    switch (event.type) {
      case 'run-started':
        this.#total = event.tasks;
        break;
      case 'round-started':
        this.#total = (this.#total ?? 0) + event.tasks;
        break;
      case 'task-started':
        this.#started++;
        break;
      case 'task-finished':
        this.#finished++;
        this.#callsOfFinished += event.result.llmCalls;
        if (!event.result.ok) this.#failed++;
        break;
      case 'agent':
        if (event.event.type === 'llm-call') {
          this.#calls.push({ at: event.at, tokens: event.event.usage.totalTokens });
          this.#callsMade++;
        } else if (event.event.type === 'client' && event.event.event.type === 'rate-limited')
          this.#rateLimited++;
        break;
      case 'budget-warning':
        this.#print(`budget warning: ${event.resource} at ${compact(event.spent)} of ${compact(event.cap)}`);
        break;
      case 'budget-stop':
        this.#print(`budget: dispatch stopped (${event.detail})`);
        break;
      case 'dispatch-stopped':
        if (event.reason === 'quota-exhausted')
          this.#print(`quota exhausted: dispatch stopped (${event.detail})`);
        break;
      default:
        break;
    }
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#draw(false);
      if (this.#subscription) this.#schedule();
    }, this.#periodMs);
  }

  #write(final: boolean): void {
    const line = this.line();
    if (this.#tty) this.#stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else this.#stream.write(`${line}\n`);
  }

  #print(message: string): void {
    if (this.#tty) this.#stream.write(`\r\x1b[2K${message}\n`);
    else this.#stream.write(`${message}\n`);
  }
}

function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${Math.round((ms % 60_000) / 1_000)}s`;
}

function compact(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1_000) return `${(n / 1_000).toFixed(1)}k`;
  return String(Math.round(n));
}
