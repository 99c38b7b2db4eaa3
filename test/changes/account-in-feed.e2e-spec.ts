// What a change event says of the binding's account: its name and realm as the accounts table
// holds them when the change is written (a rename committed just before shows at once; an
// account first seen in the same batch shows as that batch made it), and no key for a value
// nobody knows. Pinned because the outbox builds these keys in SQL, per batch.
import * as amqp from 'amqplib';
import { AccountStore } from '@app/persistence';
import { connectTestBroker, Outgoing } from '../support/amqp';
import { ChangeMsg, subscribe } from '../support/change-feed';
import { eventually } from '../support/poll';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, kazooFlush, nowS } from '../support/messages';

let h: Harness;
let conn: amqp.ChannelModel;
let accounts: AccountStore;
beforeAll(async () => {
  h = await startIngest();
  conn = await connectTestBroker();
  accounts = h.ingest.app.get(AccountStore);
});
afterAll(async () => {
  await conn.close();
  await h.stop();
});

/** Waits for `n` changes of `realm`'s bindings on the exchange, and returns them. */
async function changesOf(
  got: { msg: ChangeMsg }[],
  realm: string,
  n: number,
): Promise<ChangeMsg[]> {
  const of = () => got.map((g) => g.msg).filter((m) => m.registration.realm === realm);
  await eventually(
    async () => of().length,
    (k) => k >= n,
    { timeoutMs: 20_000, what: `${n} changes of ${realm}` },
  );
  return of();
}

/** The message with Account-Name in its Custom-Channel-Vars, as Kazoo sets it for some proxies. */
function withAccountName(m: Outgoing, name: string): Outgoing {
  const body = m.body as Record<string, Record<string, unknown>>;
  body['Custom-Channel-Vars'] = { ...body['Custom-Channel-Vars'], 'Account-Name': name };
  return m;
}

const accountKeys = (m: ChangeMsg) => ({
  account_name: m.registration.account_name,
  account_realm: m.registration.account_realm,
});

it("carries the account's name and realm as they are at the write, a rename just before included, each account its own", async () => {
  const realmA = 'named-a.example.net';
  const realmB = 'named-b.example.net';
  await accounts.createOrAdopt({ id: accountIdOf(realmA), name: 'Alpha', realm: realmA });
  await accounts.createOrAdopt({ id: accountIdOf(realmB), name: 'Beta', realm: realmB });
  const got = await subscribe(conn);
  const ts = nowS();
  // Interleaved in one publish: one batch holds both accounts' bindings.
  await h.broker.publish(
    Array.from({ length: 6 }, (_, i) =>
      kazoo({ realm: i % 2 ? realmB : realmA, username: `u${i}`, ts }),
    ),
  );
  const a1 = await changesOf(got, realmA, 3);
  const b1 = await changesOf(got, realmB, 3);
  for (const m of a1)
    expect(accountKeys(m)).toEqual({ account_name: 'Alpha', account_realm: realmA });
  for (const m of b1)
    expect(accountKeys(m)).toEqual({ account_name: 'Beta', account_realm: realmB });

  // Renamed (committed) just before the next events: they say the new name, the unchanged
  // account keeps its own. The ingest does not write A again (the events name no account
  // name), so only the table knows the new one.
  await accounts.createOrAdopt({ id: accountIdOf(realmA), name: 'Alpha Renamed', realm: realmA });
  await h.broker.publish([
    kazoo({ realm: realmA, username: 'late', ts: ts + 1 }),
    kazoo({ realm: realmB, username: 'late', ts: ts + 1 }),
  ]);
  const a2 = await changesOf(got, realmA, 4);
  const b2 = await changesOf(got, realmB, 4);
  expect(accountKeys(a2[3])).toEqual({ account_name: 'Alpha Renamed', account_realm: realmA });
  expect(accountKeys(b2[3])).toEqual({ account_name: 'Beta', account_realm: realmB });

  // An end written outside the ingest's batches (a flush) says the current name too.
  await accounts.createOrAdopt({ id: accountIdOf(realmA), name: 'Alpha Again', realm: realmA });
  await h.broker.publish([kazooFlush(realmA, 'late')]);
  const a3 = await changesOf(got, realmA, 5);
  expect(a3[4].change).toBe('flushed');
  expect(accountKeys(a3[4])).toEqual({ account_name: 'Alpha Again', account_realm: realmA });
});

it('an account first seen in the batch shows as that batch wrote it; no key for what no one knows', async () => {
  const named = 'fresh-named.example.net';
  const unnamed = 'fresh-unnamed.example.net';
  const orphan = 'no-account.example.net';
  const got = await subscribe(conn);
  const ts = nowS();
  await h.broker.publish([
    withAccountName(kazoo({ realm: named, username: 'n1', ts }), 'Fresh Co'),
    kazoo({ realm: unnamed, username: 'u1', ts }), // Account-ID and Account-Realm, no name
    kazoo({ realm: orphan, username: 'o1', ts, accountId: null }),
  ]);
  const [n] = await changesOf(got, named, 1);
  expect(n.account_id).toBe(accountIdOf(named));
  expect(accountKeys(n)).toEqual({ account_name: 'Fresh Co', account_realm: named });
  const [u] = await changesOf(got, unnamed, 1);
  expect(u.account_id).toBe(accountIdOf(unnamed));
  expect(u.registration.account_realm).toBe(unnamed);
  expect(u.registration).not.toHaveProperty('account_name');
  const [o] = await changesOf(got, orphan, 1);
  expect(o.account_id).toBeNull();
  expect(o.registration).not.toHaveProperty('account_name');
  expect(o.registration).not.toHaveProperty('account_realm');
  // What the accounts table holds is what the events said.
  expect(await accounts.get(accountIdOf(named))).toMatchObject({ name: 'Fresh Co', realm: named });
  expect(await accounts.get(accountIdOf(unnamed))).toMatchObject({ name: null, realm: unnamed });
});
