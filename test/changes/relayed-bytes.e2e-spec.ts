// The exact bytes a change feed consumer receives: body, routing key and properties of each
// relayed message, against the message as the relay built it in node before Postgres printed the
// body (JSON.stringify of the head, pg's Date through toISOString, the account's keys spliced in
// front of the stored item). Pinned because nothing else compares bytes: a consumer that hashes,
// signs or diffs the events would notice a single one changing.
import * as amqp from 'amqplib';
import { Client } from 'pg';
import { encodeSegment } from '@app/messaging';
import { ITEM_TEXT } from '@app/persistence';
import { connectTestBroker } from '../support/amqp';
import { eventually } from '../support/poll';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, nowS } from '../support/messages';
import { TEST_DATABASE_URL } from '../support/test-env';

let h: Harness;
let conn: amqp.ChannelModel;
beforeAll(async () => {
  h = await startIngest();
  conn = await connectTestBroker();
});
afterAll(async () => {
  await conn.close();
  await h.stop();
});

interface Received {
  key: string;
  content: Buffer;
  properties: amqp.MessageProperties;
}

async function receiveAll(): Promise<Received[]> {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'registrations.changes', '#');
  const got: Received[] = [];
  await ch.consume(
    queue,
    (m) =>
      m && got.push({ key: m.fields.routingKey, content: m.content, properties: m.properties }),
    { noAck: true },
  );
  return got;
}

/** The message of an outbox row as the relay built it in node (its code before this test). */
function oldMessage(r: {
  seq: string;
  change: string;
  occurred_at: Date;
  account_id: string | null;
  realm: string;
  username: string;
  registration_json: string;
  account_name: string | null;
  account_realm: string | null;
}): { key: string; body: Buffer; messageId: string; type: string } {
  const head = JSON.stringify({
    seq: Number(r.seq),
    change: r.change,
    occurred_at: new Date(r.occurred_at).toISOString(),
    account_id: r.account_id,
  });
  let keys = '';
  if (r.account_name !== null) keys += `"account_name":${JSON.stringify(r.account_name)},`;
  if (r.account_realm !== null) keys += `"account_realm":${JSON.stringify(r.account_realm)},`;
  const registration =
    keys === '' ? r.registration_json : `{${keys}${r.registration_json.slice(1)}`;
  const body = `${head.slice(0, -1)},"registration":${registration}}`;
  return {
    key: `${r.change}.${r.account_id ?? 'unassigned'}.${encodeSegment(r.realm)}.${encodeSegment(r.username)}`,
    body: Buffer.from(body),
    messageId: r.seq,
    type: r.change,
  };
}

/** The outbox rows after `seq`, read as the old relay read them (pg's own parsers). */
async function outboxAfter(seq: string) {
  const db = new Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT seq, change, occurred_at, account_id, realm, username,
              ${ITEM_TEXT} AS registration_json, account_name, account_realm
         FROM registration_changes WHERE seq > $1 ORDER BY seq`,
      [seq],
    );
    return rows;
  } finally {
    await db.end();
  }
}

async function lastSeq(): Promise<string> {
  const { rows } = await h.pool.query<{ seq: string }>(
    `SELECT coalesce(max(seq), 0)::text AS seq FROM registration_changes`,
  );
  return rows[0].seq;
}

function expectSameBytes(got: Received[], want: ReturnType<typeof oldMessage>[]): void {
  expect(got.map((g) => g.key)).toEqual(want.map((w) => w.key));
  for (const [i, w] of want.entries()) {
    expect(got[i].content.toString('utf8')).toBe(w.body.toString('utf8')); // readable diff
    expect(got[i].content.equals(w.body)).toBe(true);
    expect(got[i].properties).toMatchObject({
      contentType: 'application/json',
      deliveryMode: 2, // persistent
      messageId: w.messageId,
      type: w.type,
    });
    // Nothing else: no headers, encoding, timestamp, correlation or reply-to.
    const set = Object.entries(got[i].properties)
      .filter(([, v]) => v !== undefined && !(typeof v === 'object' && Object.keys(v).length === 0))
      .map(([k]) => k)
      .sort();
    expect(set).toEqual(['contentType', 'deliveryMode', 'messageId', 'type']);
  }
}

it('a registration through the ingest is relayed with the bytes and properties the node-built message had', async () => {
  const realm = 'bytes.example.net';
  const from = await lastSeq();
  const got = await receiveAll();
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm, username: 'front desk', contact: '<sip:fd@10.0.0.1:5060>', callId: 'b1', ts }),
    kazoo({ realm, username: 'é', contact: '<sip:e@10.0.0.2:5060>', callId: 'b2', ts }),
  ]);
  await eventually(
    async () => got.length,
    (n) => n >= 2,
    { timeoutMs: 20_000, what: 'both changes on the bus' },
  );
  const rows = await outboxAfter(from);
  expect(rows).toHaveLength(2);
  expect(rows[0].account_id).toBe(accountIdOf(realm));
  expectSameBytes(got, rows.map(oldMessage));
  expect(got.map((g) => g.key)).toContain(
    `registered.${accountIdOf(realm)}.bytes%2Eexample%2Enet.%C3%A9`,
  );
});

it('rows with escapes, microseconds, NULL account columns, and items from before the account columns and before json are relayed byte for byte as before', async () => {
  const from = await lastSeq();
  const got = await receiveAll();
  const item = (extra: Record<string, unknown>) =>
    JSON.stringify({ realm: 'odd.example.net', username: 'u', contact: 'sip:u@h', ...extra });
  // Straight into the outbox: values the ingest would rarely write, each a byte the two ways
  // could print differently (JSON escapes, line and paragraph separators, astral characters,
  // the timestamp's rounding, a key per NULL).
  await h.pool.query(
    // `jsonb`: a row written before migration 1796720000000, its item in `registration`.
    `INSERT INTO registration_changes (change, occurred_at, account_id, realm, username, item,
                                       registration, account_name, account_realm)
     SELECT c.change, c.occurred_at::timestamptz, c.account_id, c.realm, c.username,
            CASE WHEN NOT c.jsonb THEN c.registration::json END,
            CASE WHEN c.jsonb THEN c.registration::jsonb END, c.account_name, c.account_realm
       FROM json_to_recordset($1::json) AS c(ord int, change text, occurred_at text, account_id text,
            realm text, username text, registration text, jsonb boolean, account_name text,
            account_realm text)
      ORDER BY c.ord`,
    [
      JSON.stringify([
        {
          ord: 0,
          change: 'registered',
          occurred_at: '2026-03-01 12:34:56.789999+00',
          account_id: 'a1b2',
          realm: 'odd.example.net',
          username: 'u',
          registration: item({ user_agent: 'Tab\there "q" back\\slash \u0001 \u007f \u2028 😀' }),
          jsonb: false,
          account_name: 'Acme "Main" \\ Café\n\u001f \u007f \u2028 😀\b\f\r\t',
          account_realm: 'odd.example.net',
        },
        {
          ord: 1,
          change: 'expired',
          occurred_at: '2026-03-01 23:59:59.999999+05:30',
          account_id: null,
          realm: 'odd.example.net',
          username: 'u@host;x=1',
          registration: item({ expires: 0 }),
          jsonb: false,
          account_name: null,
          account_realm: 'odd.example.net',
        },
        {
          // Written before migration 1796700000000: the keys inside the item, NULL columns, jsonb.
          ord: 2,
          change: 'unregistered',
          occurred_at: '1999-12-31 23:59:59.0005+00',
          account_id: 'a1b2',
          realm: 'odd.example.net',
          username: 'u',
          registration: item({ account_name: 'Old', account_realm: 'old.example.net' }),
          jsonb: true,
          account_name: null,
          account_realm: null,
        },
        {
          ord: 3,
          change: 'flushed',
          occurred_at: '2026-03-02 00:00:00+00',
          account_id: 'a1b2',
          realm: 'odd.example.net',
          username: 'u',
          registration: item({}),
          jsonb: false,
          account_name: 'Only a name',
          account_realm: null,
        },
        {
          // Written between migrations 1796700000000 and 1796720000000: columns, jsonb item.
          ord: 4,
          change: 'replaced',
          occurred_at: '2026-03-02 00:00:00.001+00',
          account_id: 'a1b2',
          realm: 'odd.example.net',
          username: 'u',
          registration: item({ contact: 'sip:u@h;x="é"' }),
          jsonb: true,
          account_name: 'Named',
          account_realm: 'odd.example.net',
        },
      ]),
    ],
  );
  await eventually(
    async () => got.length,
    (n) => n >= 5,
    { timeoutMs: 20_000, what: 'the five rows on the bus' },
  );
  const rows = await outboxAfter(from);
  expect(rows).toHaveLength(5);
  expectSameBytes(got, rows.map(oldMessage));
  // The timestamps as consumers read them: milliseconds truncated, UTC.
  expect(
    got.map((g) => (JSON.parse(g.content.toString()) as { occurred_at: string }).occurred_at),
  ).toEqual([
    '2026-03-01T12:34:56.789Z',
    '2026-03-01T18:29:59.999Z',
    '1999-12-31T23:59:59.000Z',
    '2026-03-02T00:00:00.000Z',
    '2026-03-02T00:00:00.001Z',
  ]);
});
