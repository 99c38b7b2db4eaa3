// The database away (restarting, refusing connections) is a 503 "try again later" in every
// dialect's envelope, never a 500 the client cannot act on, and never Postgres's own text or a
// stack: the fault run (test/ingest/fault-run.e2e-spec.ts) flushes through the API while its
// Postgres is stopped and retries on exactly this answer.
import type { ArgumentsHost } from '@nestjs/common';
import { KazooExceptionFilter } from '../kazoo/kazoo-exception.filter';
import { DialectExceptionFilter } from '../sipxcom/dialect-exception.filter';

interface Sent {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function hostFor(sent: Sent): ArgumentsHost {
  const reply = {
    status(s: number) {
      sent.status = s;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const req = { id: 'req-1', url: '/v2/accounts/x/registrations/1001', headers: {} };
  return {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }),
  } as unknown as ArgumentsHost;
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
  code: 'ECONNREFUSED',
});
const shuttingDown = Object.assign(
  new Error('terminating connection due to administrator command'),
  { code: '57P01' },
);
const quiet = { warn: () => undefined, error: () => undefined };

describe.each([
  ['refused', refused],
  ['terminated', shuttingDown],
])('the database %s', (_what, error) => {
  it('Kazoo: 503 datastore_unreachable, as crossbar answers (cb_context:add_system_error)', () => {
    const sent: Sent = { status: 0, headers: {}, body: undefined };
    const filter = new KazooExceptionFilter();
    Object.assign(filter, { logger: quiet });
    filter.catch(error, hostFor(sent));
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('1');
    expect(sent.body).toMatchObject({
      status: 'error',
      error: '503',
      message: 'datastore_unreachable',
      data: { message: 'datastore timeout' },
    });
    expect(JSON.stringify(sent.body)).not.toMatch(/ECONNREFUSED|terminating|\n\s+at /);
  });

  it('sipXcom and hosted PBX: 503 service_unavailable', () => {
    const sent: Sent = { status: 0, headers: {}, body: undefined };
    const filter = new DialectExceptionFilter('Basic realm="sipxconfig"');
    Object.assign(filter, { logger: quiet });
    filter.catch(error, hostFor(sent));
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('1');
    expect(sent.body).toEqual({
      error: 'service_unavailable',
      message: 'the database is unavailable',
    });
  });
});

it('any other error is still a 500 without its text', () => {
  const sent: Sent = { status: 0, headers: {}, body: undefined };
  const filter = new KazooExceptionFilter();
  Object.assign(filter, { logger: quiet });
  filter.catch(new Error('column "x" does not exist'), hostFor(sent));
  expect(sent.status).toBe(500);
  expect(JSON.stringify(sent.body)).not.toMatch(/column/);
});
