// One environment schema for both apps: defaults, and one error naming every bad variable.
import {
  ConfigError,
  configSchema,
  ingestLanes,
  ingestPrefetch,
  loadConfig,
  redactUrl,
} from './config';

describe('loadConfig defaults', () => {
  const cfg = loadConfig({});

  it('uses the local Postgres and RabbitMQ', () => {
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/registrations');
    expect(cfg.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672/');
  });

  it('serves the API on 8000 and ingest on 8001', () => {
    expect(cfg.PORT).toBe(8000);
    expect(cfg.INGEST_PORT).toBe(8001);
    expect(cfg.HOST).toBe('0.0.0.0');
  });

  it('has the documented operational defaults', () => {
    expect(cfg).toMatchObject({
      LOG_LEVEL: 'info',
      KAZOO_EXCHANGE_DURABLE: false,
      QUEUE_PREFIX: 'registrations',
      SWEEP_INTERVAL_MS: 2000,
      FS_COMMAND_ROUTING_KEY: 'commandBindingKey',
      FS_COMMAND_ROUTING_KEYS: '',
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({
      PORT: 8000,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/registrations',
    });
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' })).toEqual(loadConfig({}));
  });

  it('defines a default for every variable, so an empty environment starts', () => {
    expect(Object.keys(loadConfig({})).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});

describe('loadConfig overrides', () => {
  it('reads numbers, booleans and URLs from strings', () => {
    const cfg = loadConfig({
      PORT: '9000',
      KAZOO_EXCHANGE_DURABLE: 'yes',
      DATABASE_URL: 'postgresql://app:pw@db:5432/regs',
      AMQP_URL: 'amqps://u:p@mq.example.net:5671/kazoo',
      LOG_LEVEL: 'debug',
    });
    expect(cfg).toMatchObject({
      PORT: 9000,
      KAZOO_EXCHANGE_DURABLE: true,
      DATABASE_URL: 'postgresql://app:pw@db:5432/regs',
      AMQP_URL: 'amqps://u:p@mq.example.net:5671/kazoo',
      LOG_LEVEL: 'debug',
    });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads KAZOO_EXCHANGE_DURABLE=%s as %s', (value, expected) => {
    expect(loadConfig({ KAZOO_EXCHANGE_DURABLE: value }).KAZOO_EXCHANGE_DURABLE).toBe(expected);
  });
});

describe('loadConfig errors', () => {
  function errorOf(env: NodeJS.ProcessEnv): ConfigError {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error('expected a ConfigError');
  }

  it('names every bad variable in one error', () => {
    const e = errorOf({ PORT: 'abc', DATABASE_URL: 'mysql://x', KAZOO_EXCHANGE_DURABLE: 'maybe' });
    expect(e).toBeInstanceOf(Error);
    expect(e.problems).toHaveLength(3);
    for (const name of ['PORT', 'DATABASE_URL', 'KAZOO_EXCHANGE_DURABLE'])
      expect(e.message).toContain(name);
    expect(e.message).toContain('"abc"');
    expect(e.message).toContain('"mysql://x"');
    expect(e.message).toContain('"maybe"');
  });

  it('does not blame the good variables', () => {
    const e = errorOf({
      PORT: 'abc',
      INGEST_PORT: '8001',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672/',
    });
    expect(e.problems).toHaveLength(1);
    expect(e.message).not.toContain('INGEST_PORT');
    expect(e.message).not.toContain('AMQP_URL');
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['INGEST_BATCH_SIZE', '5001'],
    ['SWEEP_INTERVAL_MS', '99'],
    ['AMQP_URL', 'http://mq:5672/'],
    ['AMQP_URL', 'not a url'],
    ['LOG_LEVEL', 'verbose'],
    ['QUEUE_PREFIX', 'has space'],
  ])('rejects %s=%s', (name, value) => {
    const e = errorOf({ [name]: value });
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0].startsWith(`${name}=`)).toBe(true);
  });
});

describe('redactUrl', () => {
  it('hides the password', () => {
    const out = redactUrl('amqp://guest:s3cret@mq.example.net:5672/kazoo');
    expect(out).not.toContain('s3cret');
    expect(out).toBe('amqp://guest:***@mq.example.net:5672/kazoo');
  });

  it('hides a Postgres password', () => {
    const out = redactUrl('postgres://app:hunter2@db:5432/registrations');
    expect(out).not.toContain('hunter2');
    expect(out).toContain('app:');
    expect(out).toContain('@db:5432/registrations');
  });

  it('leaves URLs without password as they are', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/registrations')).toBe(
      'postgres://postgres@127.0.0.1:5432/registrations',
    );
  });
});

describe('INGEST_LANES', () => {
  it('is derived by default: min(4, pool - 2, max(2, cores / 2)), at least 1', () => {
    expect(ingestLanes(loadConfig({}), 8)).toBe(4);
    expect(ingestLanes(loadConfig({}), 16)).toBe(4);
    expect(ingestLanes(loadConfig({}), 2)).toBe(2); // a 2-core box: two lanes (docs/benchmarks.md)
    expect(ingestLanes(loadConfig({}), 1)).toBe(2);
    expect(ingestLanes(loadConfig({ DB_POOL_SIZE: '3' }), 2)).toBe(1);
    // An explicit prefetch that holds one batch keeps one lane (it started so before).
    expect(ingestLanes(loadConfig({ INGEST_PREFETCH: '200' }), 2)).toBe(1);
    expect(ingestLanes(loadConfig({ INGEST_PREFETCH: '2500' }), 8)).toBe(2);
    expect(ingestLanes(loadConfig({}), 6)).toBe(3);
    expect(ingestLanes(loadConfig({ DB_POOL_SIZE: '5' }), 8)).toBe(3);
    expect(ingestLanes(loadConfig({ DB_POOL_SIZE: '2' }), 8)).toBe(1);
    expect(ingestLanes(loadConfig({ DB_POOL_SIZE: '1' }), 8)).toBe(1);
  });

  it('takes an explicit value, within the pool', () => {
    expect(ingestLanes(loadConfig({ INGEST_LANES: '1' }), 8)).toBe(1);
    expect(ingestLanes(loadConfig({ INGEST_LANES: '8', DB_POOL_SIZE: '10' }), 2)).toBe(8);
    expect(() => loadConfig({ INGEST_LANES: '9', DB_POOL_SIZE: '8' })).toThrow(
      /INGEST_LANES="9": more lanes than DB_POOL_SIZE \(8\)/,
    );
    expect(() => loadConfig({ INGEST_LANES: '-1' })).toThrow(/INGEST_LANES/);
    expect(() => loadConfig({ INGEST_LANES: '2.5' })).toThrow(/INGEST_LANES/);
  });
});

describe('INGEST_PREFETCH', () => {
  const prefetch = (env: Record<string, string>, cores = 2) => {
    const c = loadConfig(env);
    return ingestPrefetch(c, ingestLanes(c, cores));
  };

  it('is 3000 with one lane, as before; three batches per lane with several', () => {
    expect(prefetch({}, 1)).toBe(6000); // 2 lanes by default on a small machine
    expect(prefetch({ INGEST_LANES: '1' })).toBe(3000);
    expect(prefetch({ INGEST_BATCH_SIZE: '5000', INGEST_LANES: '1' })).toBe(3000);
    expect(prefetch({ INGEST_LANES: '4' })).toBe(12_000);
    expect(prefetch({ INGEST_LANES: '4', INGEST_BATCH_SIZE: '100' })).toBe(3000);
    expect(prefetch({ INGEST_LANES: '8', INGEST_BATCH_SIZE: '5000', DB_POOL_SIZE: '10' })).toBe(
      65_535,
    );
  });

  it('takes an explicit value that holds a full batch per lane', () => {
    expect(prefetch({ INGEST_PREFETCH: '200' })).toBe(200);
    expect(prefetch({ INGEST_PREFETCH: '200', INGEST_LANES: '4', INGEST_BATCH_SIZE: '40' })).toBe(
      200,
    );
  });

  it('refuses one that cannot hold a full batch per lane, naming what to change', () => {
    expect(() => loadConfig({ INGEST_PREFETCH: '3000', INGEST_LANES: '4' })).toThrow(
      /INGEST_PREFETCH="3000": less than 4 lanes × INGEST_BATCH_SIZE 1000 = 4000.*raise INGEST_PREFETCH/,
    );
    // Derived lanes count as well (here 4, from 8 cores and the default pool of 8), and a
    // derived prefetch capped at RabbitMQ's 65535 is refused the same way.
    expect(() =>
      loadConfig({ INGEST_LANES: '16', DB_POOL_SIZE: '20', INGEST_BATCH_SIZE: '5000' }),
    ).toThrow(/INGEST_PREFETCH=65535 \(derived\): less than 16 lanes/);
  });
});
