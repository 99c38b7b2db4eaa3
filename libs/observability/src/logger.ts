// Structured JSON logs (pino) for both apps.
import { ConsoleLogger, LoggerService, LogLevel } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

export function loggerModule(level: string, service: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
      level,
      base: { service },
      autoLogging: false,
      redact: ['req.headers["x-auth-token"]', 'req.headers.authorization'],
    },
    // No per-request middleware: requests are not logged one by one (autoLogging off) and
    // error logs name their request id themselves; the middleware cost the list route ~5% of
    // its CPU (bench/api).
    forRoutes: [],
  });
}

const LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const NEST_LEVELS: Record<(typeof LEVELS)[number], LogLevel[]> = {
  silent: [],
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * The logger of start-up, before the app's pino logger exists (JSON lines too, at LOG_LEVEL):
 * Nest's buffering would hold every line until start-up ends, so a person waiting for an
 * unreachable Postgres would see nothing.
 */
export function startupLogger(config: { LOG_LEVEL: string }): LoggerService {
  const level = (LEVELS as readonly string[]).includes(config.LOG_LEVEL)
    ? (config.LOG_LEVEL as (typeof LEVELS)[number])
    : 'info';
  return new ConsoleLogger({ json: true, logLevels: NEST_LEVELS[level] });
}
