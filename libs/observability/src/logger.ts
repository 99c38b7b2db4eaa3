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
  });
}
