/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The logger Tollgate writes to. Bind your own (pino, winston...) under `TOKENS.Logger`. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options of {@link ConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lines below this level are dropped. @default 'info' */
  readonly level?: LogLevel | undefined;
  /** Prefixed to every line. @default 'tollgate' */
  readonly prefix?: string | undefined;
  /** Where lines go. @default console */
  readonly sink?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> | undefined;
}

/** Writes one line per message to the console (or any console-like sink). */
export class ConsoleLogger implements Logger {
  readonly #min: number;
  readonly #prefix: string;
  readonly #sink: Pick<Console, LogLevel>;

  constructor(options: ConsoleLoggerOptions = {}) {
    this.#min = ORDER[options.level ?? 'info'];
    this.#prefix = options.prefix ?? 'tollgate';
    this.#sink = options.sink ?? console;
  }

  debug(message: string, fields?: LogFields): void {
    this.#write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#write('error', message, fields);
  }

  #write(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < this.#min) return;
    const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    this.#sink[level](`[${this.#prefix}] ${level}: ${message}${suffix}`);
  }
}

/** Drops everything. The default where a logger is optional. */
export class SilentLogger implements Logger {
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(): void {}
}

/** One shared silent logger. */
export const silentLogger: Logger = new SilentLogger();
