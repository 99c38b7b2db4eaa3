// The fault run: a scripted workload on both queues (Kamailio registers, refreshes, contact
// changes, unregisters and flushes from another system; FreeSWITCH registers, refreshes and
// unregisters) and flushes through the API (Kazoo DELETE of a user, sipXcom DELETE of one
// Call-ID; test/support/fault-run-api.ts), whose final state this test computes on its own,
// while two ingest processes (single active consumer) are SIGKILLed, SIGTERMed and replaced,
// RabbitMQ connections are cut and Postgres is restarted (API flushes made while it is down). It then compares, per phone: the live bindings, the history rows by
// reason and the change feed's sequence of changes — each mismatch counted as lost, duplicate
// or wrong — and counts, off the wire, the messages RabbitMQ delivered more than once.
// CI-sized in `npm test`; `npm run bench:faults` runs it longer (FAULT_RUN_* below).
//
// Postgres: a private cluster (initdb on a port of its own, test/support/pg-cluster.ts) that the
// run really stops (pg_ctl stop -m immediate, then -m fast) and starts again, used as the
// ingest's DATABASE_URL. Where none can be made (no initdb; root without a `postgres` user), or
// with FAULT_RUN_POSTGRES=proxy, the shared test database behind a TCP proxy taken down and
// brought back stands in for the restart. The summary says which.
import { Pool } from 'pg';
import { createDataSource, initializeDataSource } from '@app/persistence';
import { T, TestBroker, Outgoing } from '../support/amqp';
import { AmqpDeliveryTap, bodyKey } from '../support/amqp-delivery-tap';
import { closeAtFileEnd } from '../support/cleanup';
import { CommandTap } from '../support/command-tap';
import { FaultRunApi } from '../support/fault-run-api';
import { resetDatabase } from '../support/database';
import { startIngestProcess, IngestProcess } from '../support/ingest-process';
import { freeswitch, kazoo, kazooFlush, nowS } from '../support/messages';
import { PrivateCluster, startPrivateCluster } from '../support/pg-cluster';
import { eventually } from '../support/poll';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_AMQP_URL, TEST_DATABASE_URL } from '../support/test-env';

const PHONES = Number(process.env.FAULT_RUN_PHONES ?? 40); // Kamailio phones; half as many FreeSWITCH
const ROUNDS = Number(process.env.FAULT_RUN_ROUNDS ?? 24);
const FAULT_EVERY = Number(process.env.FAULT_RUN_FAULT_EVERY ?? 4); // rounds between faults
const SEED = Number(process.env.FAULT_RUN_SEED ?? 13);
const POSTGRES = process.env.FAULT_RUN_POSTGRES ?? 'cluster'; // or 'proxy'
const REALM = 'fault-run.example.net';
/** At each fault: Kazoo DELETEs of a user, sipXcom DELETEs of one Call-ID. */
const API_USER_FLUSHES = Number(process.env.FAULT_RUN_API_USER_FLUSHES ?? 2);
const API_CONTACT_FLUSHES = Number(process.env.FAULT_RUN_API_CONTACT_FLUSHES ?? 1);
/** App-Name of the commands the product publishes (its own flushes' echoes on the bus). */
const OUR_APP_NAME = 'registrations-service';

/** The bytes TestBroker.publish sends for a message (the tap recognises them). */
const bodyOf = (m: Outgoing) =>
  Buffer.isBuffer(m.body)
    ? m.body
    : Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body));

/** A small seeded PRNG (mulberry32): the same workload every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Phone {
  name: string;
  origin: 'kazoo' | 'freeswitch';
  live?: { contact: string; callId: string };
  generation: number;
  /** The changes the feed must hold for this phone, in order: `change contact`. */
  changes: string[];
  /** History rows by reason. */
  ended: Record<string, number>;
  /**
   * Flushed through the API, and the check-sync NOTIFY makes it register again next round, with
   * the contact and Call-ID it had (a phone re-REGISTERs its dialog).
   */
  resync?: { contact: string; callId: string };
  /** What the workload did to it (printed when it ends wrong). */
  log: string[];
}

const uriOf = (contact: string) => contact.replace(/^.*</, '').replace(/>.*$/, '');

function end(p: Phone, reason: string): void {
  p.changes.push(`${reason} ${uriOf(p.live!.contact)}`);
  p.ended[reason] = (p.ended[reason] ?? 0) + 1;
  p.live = undefined;
}

/** One round: every phone acts once, all stamped with this round's second. */
function round(phones: Phone[], ts: number, rnd: () => number): Outgoing[] {
  const out: Outgoing[] = [];
  for (const p of phones) {
    const r = rnd();
    const contactFor = (g: number) =>
      p.origin === 'kazoo'
        ? `<sip:${p.name}@10.${g % 250}.0.${(g * 7) % 250}:5060>`
        : `"${p.name}" <sip:${p.name}@192.168.${g % 250}.9:5062;transport=udp>`;
    const register = (contact: string, callId: string) => {
      const wasLive = p.live;
      if (!wasLive || uriOf(wasLive.contact) !== uriOf(contact))
        p.changes.push(`registered ${uriOf(contact)}`);
      if (wasLive && uriOf(wasLive.contact) !== uriOf(contact)) {
        p.live = wasLive;
        end(p, 'replaced');
      }
      p.live = { contact, callId };
      p.log.push(`${ts} register ${uriOf(contact)} ${callId}`);
      out.push(
        p.origin === 'kazoo'
          ? kazoo({ realm: REALM, username: p.name, ts, contact, callId, expires: 3600 })
          : freeswitch({
              subclass: 'sofia::register',
              realm: REALM,
              username: p.name,
              us: ts * 1e6 + phones.indexOf(p),
              contact,
              callId,
              expires: 3600,
            }),
      );
    };
    if (p.resync) {
      register(p.resync.contact, p.resync.callId);
      p.resync = undefined;
    } else if (!p.live) {
      if (r < 0.8) register(contactFor(++p.generation), `${p.name}-${p.generation}`);
    } else if (r < 0.55) {
      register(p.live.contact, p.live.callId); // refresh
    } else if (r < 0.7) {
      register(contactFor(++p.generation), p.live.callId); // moved: same Call-ID, new contact
    } else if (r < 0.85) {
      out.push(
        p.origin === 'kazoo'
          ? kazoo({
              realm: REALM,
              username: p.name,
              ts,
              contact: p.live.contact,
              callId: p.live.callId,
              expires: 0,
            })
          : freeswitch({
              subclass: 'sofia::unregister',
              realm: REALM,
              username: p.name,
              us: ts * 1e6 + phones.indexOf(p),
              contact: p.live.contact,
              callId: p.live.callId,
            }),
      );
      end(p, 'unregistered');
      p.log.push(`${ts} unregister`);
    } else if (p.origin === 'kazoo') {
      out.push(kazooFlush(REALM, p.name)); // another system flushes this user
      p.log.push(`${ts} flush from another system`);
      end(p, 'flushed');
      // and, one time in two, the phone registers again at once (check-sync)
      // (same contact, a new Call-ID): the batch [flush, re-register] of issue 13
      // (A Call-ID of its own each time: a phone's stored binding then tells which of its
      // events were applied — the API flushes pick phones by that — where a second
      // [flush, re-register] of the same generation would look like the first.)
      if (r < 0.93) register(contactFor(p.generation), `${p.name}-c${p.generation}-${ts}`);
    }
  }
  return out;
}

describe('the fault run', () => {
  // Every byte RabbitMQ sends the ingests passes the proxy: the tap counts the deliveries.
  const tap = new AmqpDeliveryTap();
  const amqpProxy = TcpProxy.inFrontOf(TEST_AMQP_URL, () => tap.connection());
  const dbProxy = TcpProxy.inFrontOf(TEST_DATABASE_URL);
  const ingests: IngestProcess[] = [];
  let cluster: PrivateCluster | undefined;
  let postgres = '';
  let databaseUrl = TEST_DATABASE_URL;
  let pool: Pool;
  let broker: TestBroker;
  let api: FaultRunApi | undefined;
  let commands: CommandTap | undefined;

  beforeAll(async () => {
    if (POSTGRES === 'cluster') {
      const made = await startPrivateCluster('registrations_test_fault_run');
      if ('unavailable' in made) {
        postgres = `TCP-proxy outage (no private cluster: ${made.unavailable})`;
      } else {
        cluster = made;
        databaseUrl = made.url;
        postgres = `private cluster on port ${made.port} (pg_ctl stop -m immediate / fast, start)`;
        const ds = createDataSource(databaseUrl, 2, 'fault-run-setup');
        await initializeDataSource(ds, databaseUrl, () => undefined);
        await ds.destroy();
      }
    } else postgres = 'TCP-proxy outage (FAULT_RUN_POSTGRES=proxy)';
    console.log(`fault run: Postgres restarts by ${postgres}`);
    pool = new Pool({ connectionString: databaseUrl, max: 2 });
    // The restarts are the faults: an idle client of this pool sees its connection end, which
    // pg reports as an 'error' event (unhandled, it fails the file); the next query reconnects.
    pool.on('error', () => undefined);
    closeAtFileEnd(
      'fault-run pg pool',
      () => pool.end(),
      () => !pool.ending && !pool.ended,
    );
    await resetDatabase(pool);
    broker = await TestBroker.open();
    await broker.purge();
    await amqpProxy.up();
    if (!cluster) await dbProxy.up();
    // Bound before the API publishes: every flush command it sends, its echoes among them.
    commands = await CommandTap.open();
    // The API reaches the database as the ingests do (so it sees the same outage) and the
    // broker directly.
    api = await FaultRunApi.start(
      REALM,
      cluster ? databaseUrl : dbProxy.reach(TEST_DATABASE_URL),
      TEST_AMQP_URL,
    );
  });
  afterAll(async () => {
    await api?.close();
    await commands?.close();
    await Promise.all(ingests.map((i) => i.kill()));
    await amqpProxy.down();
    await dbProxy.down();
    await broker?.close();
    await pool?.end();
    await cluster?.remove();
  });

  const startOne = async () => {
    const i = await startIngestProcess({
      AMQP_URL: amqpProxy.reach(TEST_AMQP_URL),
      DATABASE_URL: cluster ? databaseUrl : dbProxy.reach(TEST_DATABASE_URL),
      INGEST_BATCH_SIZE: '40', // many batches: kills land between commits and acks
      INGEST_PREFETCH: '200',
    });
    ingests.push(i);
    return i;
  };

  /** The live bindings of the realm, as `name contact-uri call-id`. */
  const storedLive = async () =>
    new Set(
      (
        await pool.query(
          `SELECT username, contact_uri, call_id FROM registrations
            WHERE realm_key = $1 AND ended_at IS NULL`,
          [REALM],
        )
      ).rows.map((r: Record<string, string>) => `${r.username} ${r.contact_uri} ${r.call_id}`),
    );
  const liveKey = (p: Phone) => `${p.name} ${uriOf(p.live!.contact)} ${p.live!.callId}`;

  /**
   * Picks the phones to flush through the API — among those the database already shows as the
   * model does, as a client flushes what it sees (the backlog stays: no waiting for the
   * ingest) — and waits until the clock is past the last round's second, so that the flush's
   * guard makes every event sent before it stale: whatever of those phones' events is still
   * queued is a refresh of what is stored (any other event would have made the model differ:
   * each contact and Call-ID the workload gives a phone is new, but for the re-registration
   * after an API flush, which the database shows only once it is applied),
   * and Kamailio would have dropped it too. Returns the requests to make; the model ends each
   * binding `flushed` once, however many tries it takes (fault-run-api.ts), and, one time in
   * two, has the phone register again next round with its contact and Call-ID (check-sync).
   */
  const prepareApiFlushes = async (phones: Phone[], rnd: () => number, lastTs: number) => {
    const stored = await eventually(storedLive, () => true, {
      timeoutMs: 60_000,
      what: 'the stored bindings',
    });
    const pick = (from: Phone[], n: number) => {
      const picked: Phone[] = [];
      const left = [...from];
      while (picked.length < n && left.length)
        picked.push(left.splice(Math.floor(rnd() * left.length), 1)[0]);
      return picked;
    };
    const seen = phones.filter((p) => p.live && !p.resync && stored.has(liveKey(p)));
    const users = pick(
      seen.filter((p) => p.origin === 'kazoo'),
      API_USER_FLUSHES,
    );
    const contacts = pick(
      seen.filter((p) => !users.includes(p)),
      API_CONTACT_FLUSHES,
    );
    await eventually(
      () => Promise.resolve(nowS()),
      (t) => t > lastTs,
      {
        timeoutMs: (ROUNDS + 5) * 1000,
        intervalMs: 100,
        what: "the clock past the rounds' stamps",
      },
    );
    const callIds = contacts.map((p) => p.live!.callId);
    for (const p of [...users, ...contacts]) {
      const was = p.live!;
      p.log.push(`${Date.now() / 1000} API flush (${users.includes(p) ? 'user' : 'Call-ID'})`);
      end(p, 'flushed');
      if (rnd() < 0.5) p.resync = was;
    }
    return () =>
      Promise.all([
        ...users.map((p) => api!.flushUser(p.name)),
        ...callIds.map((c) => api!.flushCallId(c)),
      ]);
  };

  it(
    'loses nothing, duplicates nothing and shows every phone as it is',
    async () => {
      const rnd = prng(SEED);
      const phones: Phone[] = [
        ...Array.from({ length: PHONES }, (_, i) => ({ name: `k${i}`, origin: 'kazoo' as const })),
        ...Array.from({ length: PHONES >> 1 }, (_, i) => ({
          name: `f${i}`,
          origin: 'freeswitch' as const,
        })),
      ].map((p) => ({ ...p, generation: 0, changes: [], ended: {}, log: [] }));
      await Promise.all([startOne(), startOne()]);

      const faults = [
        'sigkill', // whichever is active or standing by; a new one is started in its place
        'disconnect', // every RabbitMQ connection cut
        'database', // Postgres away for a while
        'sigkill',
        'sigterm',
        'sigkill',
      ];
      const applied: string[] = [];
      // Each round stamped with a second of its own (a few may run ahead of the clock), and no
      // earlier than the clock: the API's flushes are dated by the clock, so a flush waits for
      // the clock to pass the last round's second, and the rounds after it are not stamped
      // before the flush's second (prepareApiFlushes).
      let ts = nowS() - 1;
      let sent = 0;
      const published = new Map<string, number>();
      let restarts = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const fault =
          r % FAULT_EVERY === FAULT_EVERY - 1
            ? faults[Math.floor(r / FAULT_EVERY) % faults.length]
            : undefined;
        // Flushes through the API at each fault: before this round, so that their echoes and
        // this round's re-registrations are in flight when the fault strikes right after it —
        // or, for Postgres, while it is down (after this round: its events wait for it).
        if (fault && fault !== 'database') await (await prepareApiFlushes(phones, rnd, ts))();
        ts = Math.max(ts + 1, nowS()); // (after a flush: not before its second)
        const batch = round(phones, ts, rnd);
        for (const m of batch) {
          const key = bodyKey(bodyOf(m));
          published.set(key, (published.get(key) ?? 0) + 1);
        }
        await broker.publish(batch);
        sent += batch.length;
        if (!fault) continue;
        applied.push(fault);
        if (fault === 'sigkill' || fault === 'sigterm') {
          const victim = ingests.shift()!;
          if (fault === 'sigkill') await victim.kill();
          else {
            victim.child.kill('SIGTERM');
            await eventually(
              () =>
                Promise.resolve(victim.child.exitCode !== null || victim.child.signalCode !== null),
              (gone) => gone,
              { timeoutMs: 30_000, what: 'the SIGTERMed ingest gone' },
            );
          }
          await startOne();
        } else if (fault === 'disconnect') {
          const port = amqpProxy.port;
          await amqpProxy.down();
          await amqpProxy.up(port);
        } else {
          const apiFlushes = await prepareApiFlushes(phones, rnd, ts);
          const port = dbProxy.port;
          // A crash (immediate: recovery on start) and a clean shutdown (fast), in turn.
          if (cluster) await cluster.stop(restarts++ % 2 === 0 ? 'immediate' : 'fast');
          else await dbProxy.down();
          await eventually(
            () => fetch(`${ingests[0].url}/readyz`).then((x) => x.status),
            (s) => s === 503,
            { what: 'an ingest seeing the database gone' },
          );
          // The client tries while the database is away, and again until answered.
          const errorsBefore = Object.values(api!.stats.errors).reduce((a, b) => a + b, 0);
          const flushing = apiFlushes();
          await eventually(
            () => Promise.resolve(Object.values(api!.stats.errors).reduce((a, b) => a + b, 0)),
            (n) => n > errorsBefore,
            { what: 'an API flush answered an error while the database is away' },
          ).catch(() => undefined); // (counted below: apiErrorAnswers)
          if (cluster) await cluster.start();
          else await dbProxy.up(port);
          await flushing;
        }
      }

      // Everything consumed and committed: the live set as computed (or the deadline, then the
      // comparison below says what is wrong).
      const expectedLive = phones
        .filter((p) => p.live)
        .map((p) => `${p.name} ${uriOf(p.live!.contact)} ${p.live!.callId}`)
        .sort();
      const liveNow = async () =>
        (
          await pool.query(
            `SELECT username, contact_uri, call_id FROM registrations
            WHERE realm_key = $1 AND ended_at IS NULL ORDER BY 1, 2`,
            [REALM],
          )
        ).rows
          .map((r: Record<string, string>) => `${r.username} ${r.contact_uri} ${r.call_id}`)
          .sort();
      await eventually(
        async () => [
          await broker.queueDepth(T.kazooQueue.name),
          await broker.queueDepth(T.freeswitchQueue.name),
          JSON.stringify(await liveNow()) === JSON.stringify(expectedLive) ? 0 : 1,
        ],
        (v) => v.every((n) => n === 0),
        // (A backlog after the faults drains at the machine's pace: allow ~25 ms per event.)
        {
          timeoutMs: Math.max(90_000, sent * 25),
          intervalMs: 500,
          what: 'both queues consumed and the live set as computed',
        },
      ).catch(() => undefined);
      const unconsumed =
        (await broker.queueDepth(T.kazooQueue.name)) +
        (await broker.queueDepth(T.freeswitchQueue.name));

      const live = await liveNow();
      const wrongBindings =
        live.filter((l) => !expectedLive.includes(l)).length +
        expectedLive.filter((l) => !live.includes(l)).length;
      const { rows: hist } = await pool.query(
        `SELECT username, end_reason, count(*)::int AS n FROM registration_history
        WHERE realm_key = $1 GROUP BY 1, 2`,
        [REALM],
      );
      let lostHistory = 0;
      let duplicateHistory = 0;
      for (const p of phones) {
        for (const reason of ['unregistered', 'replaced', 'flushed', 'expired']) {
          const n =
            (hist.find(
              (h: { username: string; end_reason: string }) =>
                h.username === p.name && h.end_reason === reason,
            )?.n as number) ?? 0;
          const want = p.ended[reason] ?? 0;
          if (n > want) duplicateHistory += n - want;
          else lostHistory += want - n;
        }
      }
      const { rows: feed } = await pool.query(
        `SELECT username, change, item->>'original_contact' AS contact FROM registration_changes
        WHERE lower(realm) = $1 ORDER BY seq`,
        [REALM],
      );
      let feedMismatches = 0;
      for (const p of phones) {
        const got = feed
          .filter((c: { username: string }) => c.username === p.name)
          .map((c: { change: string; contact: string }) => `${c.change} ${uriOf(c.contact)}`);
        if (JSON.stringify(got) !== JSON.stringify(p.changes)) {
          feedMismatches++;
          if (feedMismatches <= 5) {
            const { rows } = await pool.query(
              `SELECT contact_uri, call_id, end_reason, event_us, extract(epoch FROM ended_at) AS ended
                 FROM registrations WHERE realm_key = $1 AND username = $2 ORDER BY id`,
              [REALM, p.name],
            );
            console.log(
              `fault run: ${p.name} differs\n  model: ${JSON.stringify(p.changes)}\n  feed:  ${JSON.stringify(got)}\n  log: ${p.log.join(' | ')}\n  rows: ${JSON.stringify(rows)}`,
            );
          }
        }
      }
      const deadLetters = await broker.queueDepth(T.deadLetterQueue.name);
      // The product's own flush commands, as the broker took them: their echoes reach the Kazoo
      // queue (bound to registration.flush.*), published once each by the API.
      const echoes = (await commands!.take('registrar')).filter(
        (c) => c.json?.['App-Name'] === OUR_APP_NAME,
      );
      for (const c of echoes) {
        const key = bodyKey(Buffer.from(c.text, 'utf8'));
        published.set(key, (published.get(key) ?? 0) + 1);
      }
      const apiStats = api!.stats;
      const summary = {
        postgres: cluster ? 'private cluster' : 'tcp proxy',
        sent,
        // consumed and acked without being dead-lettered (whether each was applied right is
        // what the checks below count)
        applied: sent - unconsumed - deadLetters,
        deliveries: tap.deliveries,
        // distinct messages RabbitMQ delivered more than once (seen on the wire)
        redelivered: tap.deliveredMoreThanOnce(published),
        // deliveries the broker flagged `redelivered`
        redeliveredFlag: tap.flagged,
        faults: applied.join(','),
        live: live.length,
        unconsumed,
        wrongBindings,
        lostHistory,
        duplicateHistory,
        feedMismatches,
        deadLetters,
        apiFlushesSent: apiStats.sent,
        apiFlushesByKind: { kazooUser: apiStats.users, sipxcomCallId: apiStats.callIds },
        apiFlushesAnswered: apiStats.answered,
        apiRequests: apiStats.requests,
        apiErrorAnswers: apiStats.errors,
        apiBadAnswers: apiStats.bad.length,
        apiFlushEchoes: echoes.length,
      };
      console.log(`fault run: ${JSON.stringify(summary)}`);
      if (apiStats.bad.length)
        console.log(`fault run: bad API answers:\n${apiStats.bad.join('\n')}`);
      expect(summary).toMatchObject({
        unconsumed: 0,
        wrongBindings: 0,
        lostHistory: 0,
        duplicateHistory: 0,
        feedMismatches: 0,
        deadLetters: 0,
        apiFlushesAnswered: apiStats.sent,
        apiBadAnswers: 0,
      });
    },
    300_000 + PHONES * 1.5 * ROUNDS * 40,
  ); // (the deadline above, and the faults)
});
