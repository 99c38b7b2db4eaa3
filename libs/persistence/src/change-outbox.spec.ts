// A change event's account keys, put back into the stored item by the relay (withAccountKeys):
// what the event carried when they were merged into the jsonb when written.
import { withAccountKeys } from './change-outbox';

const item = JSON.stringify({ realm: 'acme.example.net', username: '1001', expires: 600 });

it('adds the name and realm, escaped, to the stored item', () => {
  const out = withAccountKeys(item, 'Acme "Main" \\ Café', 'acme.example.net');
  expect(JSON.parse(out)).toEqual({
    account_name: 'Acme "Main" \\ Café',
    account_realm: 'acme.example.net',
    realm: 'acme.example.net',
    username: '1001',
    expires: 600,
  });
});

it('has no key for a NULL, and leaves a row written before the columns as it is', () => {
  expect(JSON.parse(withAccountKeys(item, null, 'acme.example.net'))).toEqual({
    account_realm: 'acme.example.net',
    realm: 'acme.example.net',
    username: '1001',
    expires: 600,
  });
  expect(withAccountKeys(item, null, null)).toBe(item);
});
