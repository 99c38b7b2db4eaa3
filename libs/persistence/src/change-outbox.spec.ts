// The outbox rows as Node sends them: each row's account keys are the ones listed for its
// account, which the statement checks against the table (test/changes/account-in-feed checks
// what a consumer then sees).
import type { Binding, BindingChange } from '@app/registrations';
import { AccountKeysCache, outboxRecords } from './change-outbox';

const S = 1_000_000;
const FEED = { enabled: true, refreshes: false };

function change(username: string, accountId?: string): BindingChange {
  const binding: Binding = {
    origin: 'kazoo',
    realm: 'acme.sip.example.net',
    username,
    originalContact: `<sip:${username}@10.0.0.5:5060>`,
    contactUri: `sip:${username}@10.0.0.5:5060`,
    realmKey: 'acme.sip.example.net',
    usernameKey: username,
    accountId,
    expires: 600,
    eventUs: 100 * S,
    firstRegisteredUs: 100 * S,
    lastRegisteredUs: 100 * S,
    expiresUs: 700 * S,
    refreshCount: 0,
  };
  return { change: 'registered', occurredUs: 100 * S, binding };
}

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

it('builds each row with the known keys of its account, and lists each account once with them', () => {
  const known = new AccountKeysCache();
  known.learn([[A, 'Acme', 'acme.sip.example.net']]);
  const { records, accounts } = outboxRecords(
    [change('1', A), change('2', B), change('3', A), change('4')],
    FEED,
    known,
  );
  expect(records.map((r) => [r.registration.account_name, r.registration.account_realm])).toEqual([
    ['Acme', 'acme.sip.example.net'],
    [undefined, undefined], // B unknown: no keys, for the statement to fill in
    ['Acme', 'acme.sip.example.net'],
    [undefined, undefined], // no account
  ]);
  expect(records[1].registration).not.toHaveProperty('account_name');
  expect(accounts).toEqual([
    { id: A, name: 'Acme', realm: 'acme.sip.example.net' },
    { id: B, name: null, realm: null },
  ]);
});

it('learns what a statement read, a NULL name included', () => {
  const known = new AccountKeysCache();
  known.learn([[A, 'Acme', 'acme.sip.example.net']]);
  known.learn([[A, null, 'acme.sip.example.net']]);
  known.learn(null); // every account as sent
  const { records, accounts } = outboxRecords([change('1', A)], FEED, known);
  expect(records[0].registration).not.toHaveProperty('account_name');
  expect(records[0].registration.account_realm).toBe('acme.sip.example.net');
  expect(accounts).toEqual([{ id: A, name: null, realm: 'acme.sip.example.net' }]);
});

it('writes nothing when the feed is off, and no refresh unless asked', () => {
  expect(outboxRecords([change('1', A)], { enabled: false, refreshes: true })).toEqual({
    records: [],
    accounts: [],
  });
  const refresh = { ...change('1', A), change: 'refreshed' as const };
  expect(outboxRecords([refresh], FEED).records).toHaveLength(0);
  expect(outboxRecords([refresh], { enabled: true, refreshes: true }).records).toHaveLength(1);
});
