// Structured JSON logs (pino) for both apps.
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
