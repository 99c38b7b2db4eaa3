// The demo's accounts, made as `npm run cli -- accounts:create` makes them: a parent account
// "Demo" with an API key, and one child account per realm the phones use, with the id the
// demo's Kamailio puts in Custom-Channel-Vars (md5("account:" + realm), see
// test/kamailio/kamailio.cfg.tmpl), so the events land in those accounts. Running the demo
// again adopts the same accounts.
import { createHash } from 'node:crypto';
import type { AppConfig } from '@app/config';
import {
  AccountStore,
  createDataSource,
  CredentialStore,
  initializeDataSource,
} from '@app/persistence';

export interface DemoAccounts {
  parent: { id: string; name: string };
  realms: { realm: string; id: string; name: string }[];
  apiKey: string;
}

export const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export async function createDemoAccounts(
  config: AppConfig,
  domain: string,
  realms: string[],
  log: (m: string) => void,
): Promise<DemoAccounts> {
  const ds = createDataSource(config.DATABASE_URL, 2, 'registrations-demo');
  // Retries with a line saying how to start Postgres when it is not running.
  await initializeDataSource(ds, config.DATABASE_URL, log);
  try {
    const accounts = new AccountStore(ds);
    const parent = await accounts.createOrAdopt({
      id: md5(`demo:${domain}`),
      name: 'Demo',
      realm: domain,
    });
    const children = [];
    for (const realm of realms) {
      const a = await accounts.createOrAdopt({
        id: md5(`account:${realm}`),
        name: `Demo ${realm.split('.')[0]}`,
        realm,
        parentId: parent.id,
      });
      children.push({ realm, id: a.id, name: a.name ?? realm });
    }
    const apiKey = await new CredentialStore(ds).createApiKey(parent.id);
    return { parent: { id: parent.id, name: 'Demo' }, realms: children, apiKey };
  } finally {
    await ds.destroy();
  }
}

/** PUT /v2/api_auth → auth_token. */
export async function login(api: string, apiKey: string): Promise<string> {
  const res = await fetch(`${api}/v2/api_auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { api_key: apiKey } }),
  });
  const body = (await res.json()) as { auth_token?: string };
  if (!res.ok || !body.auth_token)
    throw new Error(`PUT ${api}/v2/api_auth answered ${res.status}: ${JSON.stringify(body)}`);
  return body.auth_token;
}
