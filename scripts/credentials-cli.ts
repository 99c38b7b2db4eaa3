// The CLI's revocation commands: `api-keys:revoke --key KEY | --account ID` revokes API keys and
// every token they bought; `tokens:revoke --token=TOKEN | --account ID` revokes one token or all
// of an account's. Prints {"revoked_api_keys", "revoked_tokens"}; a key or token that matched
// nothing, or an unknown account, is an error (exit 1), so a typo is never taken for success.
import type { DataSource } from 'typeorm';
import { AccountError, AccountStore, CredentialRevocationStore, Revoked } from '@app/persistence';

export type RevokeCommand = 'api-keys:revoke' | 'tokens:revoke';

export const isRevokeCommand = (c: string | undefined): c is RevokeCommand =>
  c === 'api-keys:revoke' || c === 'tokens:revoke';

export async function revoke(
  ds: DataSource,
  command: RevokeCommand,
  target: { one?: string; account?: string },
): Promise<void> {
  const store = new CredentialRevocationStore(ds);
  let revoked: Revoked;
  if (target.account !== undefined) {
    const accountId = target.account.toLowerCase();
    if (!(await new AccountStore(ds).get(accountId)))
      throw new AccountError('invalid_id', `no account ${accountId}`);
    revoked =
      command === 'api-keys:revoke'
        ? await store.revokeAccountApiKeys(accountId)
        : await store.revokeAccountTokens(accountId);
  } else {
    revoked =
      command === 'api-keys:revoke'
        ? await store.revokeApiKey(target.one!)
        : await store.revokeToken(target.one!);
    const what = command === 'api-keys:revoke' ? 'API key' : 'token';
    if ((command === 'api-keys:revoke' ? revoked.apiKeys : revoked.tokens) === 0)
      throw new AccountError('invalid_id', `no such ${what}`);
  }
  console.error(
    `revoked ${revoked.apiKeys} API key(s) and ${revoked.tokens} token(s); the API refuses them within 5 s (its credential cache)`,
  );
  console.log(
    JSON.stringify({ revoked_api_keys: revoked.apiKeys, revoked_tokens: revoked.tokens }),
  );
}
