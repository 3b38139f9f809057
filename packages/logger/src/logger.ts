import winston from 'winston';
import { redact } from './mask';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** Minimum level. Default "info". */
  level?: string;
  /** Human-readable lines instead of JSON. Default false (JSON, for production). */
  pretty?: boolean;
  /** Added to every line, e.g. { service: "ingress" }. */
  defaultMeta?: Record<string, unknown>;
  /** Write nothing (tests that assert on other things). Default false. */
  silent?: boolean;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    (info as Record<string, unknown>)[key] = redact(info[key]);
  }
  return info;
});

export function createLogger(options: LoggerOptions = {}): Logger {
  const { combine, timestamp, json, colorize, printf, errors } = winston.format;
  const pretty = printf(({ level, message, timestamp: ts, service, ...meta }) => {
    const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
    return `${String(ts).slice(11, 23)} ${level} ${service ? `[${String(service)}] ` : ''}${String(message)}${rest}`;
  });
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    defaultMeta: options.defaultMeta,
    format: combine(
      errors({ stack: false }),
      redactFormat(),
      timestamp(),
      options.pretty ? combine(colorize(), pretty) : json(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
  skipDisabledLevels(logger);
  return logger;
}

/**
 * winston runs the whole format chain (redaction, timestamp, JSON) on every entry and only then lets
 * the transport drop the ones below its level. At LOG_LEVEL=warn the ingress paid that for two info
 * lines per request; check the level first instead.
 */
function skipDisabledLevels(logger: Logger): void {
  const methods = logger as unknown as Record<string, (...args: unknown[]) => Logger>;
  for (const level of Object.keys(logger.levels)) {
    const write = methods[level];
    if (typeof write !== 'function') continue;
    methods[level] = function (this: Logger, ...args: unknown[]): Logger {
      return this.isLevelEnabled(level) ? write.apply(this, args) : this;
    };
  }
}
