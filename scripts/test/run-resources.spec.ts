// Names of a run's own database / vhost, and which earlier ones count as leftovers: a live
// concurrent run's must never be removed.
import { HOST, isLeftover, runResources } from './run-resources';

const NO_SUCH_PID = 4_194_305; // above Linux's largest pid_max (2^22)

describe('runResources', () => {
  const a = runResources(
    'postgres://postgres@db.example:5433/registrations_test',
    'amqp://u:p@mq.example:5673/registrations-test',
  );

  it('keeps the servers, names a database and vhost of its own with "test" in them', () => {
    expect(a.databaseUrl).toBe(`postgres://postgres@db.example:5433/${a.database}`);
    expect(a.amqpUrl).toBe(`amqp://u:p@mq.example:5673/${a.vhost}`);
    expect(a.database).toMatch(
      new RegExp(`^registrations_test_${HOST}_${process.pid}_[0-9a-z]+_[0-9a-f]{4}$`),
    );
    expect(a.vhost).toBe(a.database.replace(/_/g, '-'));
    expect(a.queuePrefix).toMatch(new RegExp(`^regtest-${process.pid}-[0-9a-f]{4}$`));
  });

  it('differs from run to run, even in one process', () => {
    const names = new Set(
      Array.from({ length: 20 }, () => runResources('postgres://h/x', 'amqp://h/y').database),
    );
    expect(names.size).toBeGreaterThan(15); // 2 random bytes: a collision among 20 is possible, not 5
  });
});

describe('isLeftover', () => {
  const now = Date.now() / 1000;
  const name = (host: string, pid: number, startS: number) =>
    `registrations_test_${host}_${pid}_${Math.floor(startS).toString(36)}_00ff`;

  it('is not this run, nor a live test runner', () => {
    expect(isLeftover(name(HOST, process.pid, now))).toBe(false);
    expect(isLeftover(name(HOST, process.pid, now).replace(/_/g, '-'))).toBe(false);
  });

  it('is a run of this host whose runner is gone (database or vhost spelling)', () => {
    expect(isLeftover(name(HOST, NO_SUCH_PID, now))).toBe(true);
    expect(isLeftover(name(HOST, NO_SUCH_PID, now).replace(/_/g, '-'))).toBe(true);
  });

  it('is a live process that is not a test runner (its pid was reused)', () => {
    expect(isLeftover(name(HOST, 1, now))).toBe(true);
  });

  it('from another host: only when older than a day', () => {
    const other = HOST === 'ffff' ? 'fffe' : 'ffff';
    expect(isLeftover(name(other, NO_SUCH_PID, now - 3600), now)).toBe(false);
    expect(isLeftover(name(other, NO_SUCH_PID, now - 25 * 3600), now)).toBe(true);
  });

  it('never touches names of other shapes', () => {
    for (const n of [
      'registrations_test',
      'registrations_test_main',
      'registrations-test-demo',
      'registrations',
      'postgres',
    ])
      expect(isLeftover(n)).toBe(false);
  });
});
