// `npm run simulate`: live-looking registration traffic from simulated phones, published to
// RabbitMQ as Kamailio (`registrar`) and FreeSWITCH (`TAP.Events`) would publish it.
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { type AppConfig, ConfigError, loadConfig, redactUrl } from '@app/config/config';
import { topology, type ExchangeSpec } from '@app/messaging/topology';
import {
  buildMessage,
  createBuildContext,
  makePhones,
  mulberry32,
  nextStep,
  TRAFFIC_KINDS,
  type Origin,
  type TrafficKind,
} from './traffic/traffic-generator';

const USAGE = `Usage: npm run simulate -- [options]
  --phones N              simulated phones (default 1000)
  --realms N              realms they belong to, realmNN.sim.example.net (default 10)
  --rate N                at most N messages per second (default 500)
  --duration S            stop after S seconds (default 60)
  --cycles N              instead of --duration: stop once every phone registered/refreshed N times
  --fs-share X            share of phones registering through FreeSWITCH, 0..1 (default 0.3)
  --unregister-share X    chance that a phone leaves (unregisters or goes silent) instead of
                          refreshing, 0..1 (default 0.05); it comes back a little later
  --expires S             expiry granted to every phone, seconds (default 60)
  --seed N                seed: the same seed gives the same phones and traffic (default 1)
  --help                  this text
Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/),
             KAZOO_EXCHANGE_DURABLE (default false: how Kamailio declares \`registrar\`).`;

interface SimOptions {
  phones: number;
  realms: number;
  rate: number;
  duration?: number;
  cycles?: number;
  fsShare: number;
  unregisterShare: number;
  expires: number;
  seed: number;
}

class UsageError extends Error {}

const OPTIONS: Record<string, { key: keyof SimOptions; min: number; max: number; int: boolean }> = {
  phones: { key: 'phones', min: 1, max: 1_000_000, int: true },
  realms: { key: 'realms', min: 1, max: 999, int: true },
  rate: { key: 'rate', min: 0.1, max: 1_000_000, int: false },
  duration: { key: 'duration', min: 0.1, max: 31_536_000, int: false },
  cycles: { key: 'cycles', min: 1, max: 1_000_000, int: true },
  'fs-share': { key: 'fsShare', min: 0, max: 1, int: false },
  'unregister-share': { key: 'unregisterShare', min: 0, max: 1, int: false },
  expires: { key: 'expires', min: 5, max: 86_400, int: true },
  seed: { key: 'seed', min: 0, max: 0xffffffff, int: true },
};

function parseArgs(argv: readonly string[]): SimOptions | 'help' {
  const o: SimOptions = {
    phones: 1000,
    realms: 10,
    rate: 500,
    fsShare: 0.3,
    unregisterShare: 0.05,
    expires: 60,
    seed: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const spec = m ? OPTIONS[m[1]] : undefined;
    if (!m || !spec) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const raw = m[2] ?? argv[++i];
    if (raw === undefined || raw === '') throw new UsageError(`--${m[1]} needs a value`);
    const n = Number(raw);
    if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.int && !Number.isInteger(n))) {
      throw new UsageError(
        `--${m[1]} must be ${spec.int ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}, not ${JSON.stringify(raw)}`,
      );
    }
    o[spec.key] = n;
  }
  if (o.duration !== undefined && o.cycles !== undefined)
    throw new UsageError('give --duration or --cycles, not both');
  if (o.cycles === undefined) o.duration ??= 60;
  return o;
}

/** Declares like topology.ts; an exchange that exists with other settings is used as it is. */
async function declareExchange(conn: ChannelModel, spec: ExchangeSpec): Promise<void> {
  const ch = await conn.createChannel();
  // The server closes the channel on a mismatch; the close reason also rejects assertExchange.
  ch.on('error', () => undefined);
  try {
    await ch.assertExchange(spec.name, spec.type, { durable: spec.durable });
    await ch.close();
  } catch (err) {
    if ((err as { code?: number }).code !== 406) throw err;
    const check = await conn.createChannel();
    await check.checkExchange(spec.name);
    await check.close();
    console.log(
      `exchange ${spec.name} already exists with settings other than durable=${spec.durable} ` +
        `(406 PRECONDITION_FAILED): publishing to it as it is`,
    );
  }
}

const SLOT_MS = 50;
const PROGRESS_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Due {
  phone: number;
  kind: TrafficKind;
}

/** Publishes until the duration or cycles are done or `stop()` gives a reason to stop. */
async function simulate(
  ch: ConfirmChannel,
  o: SimOptions,
  stop: () => string | undefined,
): Promise<{ reason: string; nacked: number }> {
  const phones = makePhones({
    phones: o.phones,
    realms: o.realms,
    seed: o.seed,
    fsShare: o.fsShare,
    expires: o.expires,
  });
  const rng = mulberry32(o.seed ^ 0x51a7e000);
  const ctx = createBuildContext(o.seed);
  const registrations = new Uint32Array(phones.length);
  // A timing wheel of 50 ms slots: phones due in the same slot go out together.
  const wheel = new Map<number, Due[]>();
  const at = (ms: number, due: Due) => {
    const slot = Math.floor(ms / SLOT_MS);
    const list = wheel.get(slot);
    if (list) list.push(due);
    else wheel.set(slot, [due]);
  };
  phones.forEach((_, i) => at((i * 1000) / o.rate, { phone: i, kind: 'register' }));

  const byKind = Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, 0])) as Record<
    TrafficKind,
    number
  >;
  const byOrigin: Record<Origin, number> = { kazoo: 0, freeswitch: 0 };
  let published = 0,
    confirmed = 0,
    nacked = 0,
    done = 0,
    lastUs = 0;
  let ready: Due[] = [];
  let head = 0,
    nextSlot = 0,
    tokens = 1,
    lastTick = 0,
    nextProgress = PROGRESS_MS,
    lastPublished = 0;
  const t0 = performance.now();
  const line = (now: number, rate: number, over: string) =>
    `[${(now / 1000).toFixed(1).padStart(6)}s] published ${published} (` +
    TRAFFIC_KINDS.map((k) => `${k} ${byKind[k]}`).join(', ') +
    `; kazoo ${byOrigin.kazoo}, freeswitch ${byOrigin.freeswitch}) confirmed ${confirmed}` +
    `${nacked ? `, NACKED ${nacked}` : ''}, ${rate.toFixed(0)} msg/s ${over}, backlog ${ready.length - head}`;

  for (;;) {
    const now = performance.now() - t0;
    const reason =
      stop() ??
      (o.duration !== undefined && now >= o.duration * 1000
        ? `duration ${o.duration} s reached`
        : undefined) ??
      (o.cycles !== undefined && done === phones.length
        ? `every phone registered ${o.cycles} times`
        : undefined);
    if (reason) {
      await ch.waitForConfirms().catch(() => undefined);
      console.log(line(now, (published * 1000) / Math.max(1, now), 'on average'));
      return { reason, nacked };
    }
    for (const nowSlot = Math.floor(now / SLOT_MS); nextSlot <= nowSlot; nextSlot++) {
      for (const due of wheel.get(nextSlot) ?? []) ready.push(due);
      wheel.delete(nextSlot);
    }
    // Token bucket: at most `rate` per second, bursts of at most a fifth of a second's worth.
    tokens = Math.min(Math.max(1, o.rate / 5), tokens + ((now - lastTick) * o.rate) / 1000);
    lastTick = now;
    while (tokens >= 1 && head < ready.length && !stop()) {
      tokens--;
      const { phone, kind } = ready[head++];
      const p = phones[phone];
      lastUs = Math.max(lastUs + 1, Date.now() * 1000); // strictly increasing event times
      const msg = buildMessage(ctx, p, kind, lastUs);
      const content = Buffer.from(JSON.stringify(msg.body));
      const options = { persistent: true, contentType: msg.contentType };
      const flowing = ch.publish(msg.exchange, msg.routingKey, content, options, (err) =>
        err ? nacked++ : confirmed++,
      );
      published++;
      byKind[kind]++;
      byOrigin[p.origin]++;
      const up = kind === 'register' || kind === 'refresh';
      if (up && ++registrations[phone] === o.cycles) done++;
      else {
        const step = nextStep(rng, p, up, o.unregisterShare);
        at(now + step.afterUs / 1000, { phone, kind: step.kind });
      }
      if (!flowing) await once(ch, 'drain');
    }
    if (head > 10_000) [ready, head] = [ready.slice(head), 0];
    if (now >= nextProgress) {
      console.log(line(now, ((published - lastPublished) * 1000) / PROGRESS_MS, 'lately'));
      [nextProgress, lastPublished] = [nextProgress + PROGRESS_MS, published];
    }
    await sleep(10);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let o: SimOptions | 'help';
  let config: AppConfig;
  try {
    o = parseArgs(argv);
    if (o === 'help') {
      console.log(USAGE);
      return 0;
    }
    config = loadConfig();
  } catch (err) {
    if (err instanceof UsageError) console.error(`simulate: ${err.message}\n\n${USAGE}`);
    else if (err instanceof ConfigError) console.error(`simulate: ${err.message}`);
    else throw err;
    return 2;
  }
  const topo = topology({
    kazooExchangeDurable: config.KAZOO_EXCHANGE_DURABLE,
    queuePrefix: config.QUEUE_PREFIX,
  });
  const url = redactUrl(config.AMQP_URL);
  let failure: string | undefined;
  let signal: string | undefined;
  let closing = false;
  const onSignal = (name: string) => {
    if (signal) process.exit(130); // a second Ctrl-C: give up on the clean shutdown
    signal = name;
    console.log(`${name}: stopping after the messages in flight are confirmed (again to force)`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let conn: ChannelModel;
  try {
    conn = await connect(config.AMQP_URL);
  } catch (err) {
    console.error(`simulate: cannot connect to ${url}: ${(err as Error).message}`);
    return 1;
  }
  conn.on('error', (err: Error) => (failure ??= `connection error: ${err.message}`));
  conn.on('close', () => {
    if (!closing) failure ??= 'connection closed by the server';
  });
  try {
    // Printed before declaring, so that a 406 line below reads as a correction of it.
    const until =
      o.cycles !== undefined ? `${o.cycles} registrations per phone` : `${o.duration} s`;
    console.log(
      `simulate: ${o.phones} phones over ${o.realms} realms (fs-share ${o.fsShare}), expires ${o.expires} s, ` +
        `up to ${o.rate} msg/s for ${until} -> ${url} (declaring registrar durable=${topo.registrar.durable}, TAP.Events durable=${topo.tapEvents.durable})`,
    );
    await declareExchange(conn, topo.registrar);
    await declareExchange(conn, topo.tapEvents);
    const ch = await conn.createConfirmChannel();
    ch.on('error', (err: Error) => (failure ??= `channel error: ${err.message}`));
    const { reason, nacked } = await simulate(ch, o, () => failure ?? signal);
    console.log(`simulate: stopped: ${reason}`);
    if (nacked) failure ??= `the broker refused (nacked) ${nacked} messages`;
    if (!failure) await ch.close();
  } catch (err) {
    failure ??= (err as Error).message;
  } finally {
    closing = true;
    await conn.close().catch(() => undefined);
  }
  if (failure) console.error(`simulate: failed: ${failure}`);
  return failure ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
