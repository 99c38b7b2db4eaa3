// Administration: `npm run cli -- accounts:create --name NAME --realm REALM [--id ID]
// [--parent ID] [--superadmin]` and `npm run cli -- api-keys:create --account ID`. Each prints
// {"account_id", "api_key"} as JSON on its last line. `npm run cli -- users:create --account ID
// --name NAME --password PASSWORD` (or `--password -` to read it from stdin) creates a sipXcom
// dialect user, or sets a new password, and prints {"account_id", "user"}; `api-keys:revoke`
// and `tokens:revoke` (credentials-cli.ts) print {"revoked_api_keys", "revoked_tokens"}.
// `npm run cli -- registrations:reconcile` reconciles the table with the proxies now
// (docs/reconciliation.md) and prints what changed.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '@app/config';
import {
  AccountError,
  AccountStore,
  createDataSource,
  CredentialStore,
  DialectUserError,
  DialectUserStore,
  initializeDataSource,
  RegistrationStore,
} from '@app/persistence';
import { ReconcileRegistrationsService } from '@app/reconcile';
import { isRevokeCommand, revoke } from './credentials-cli';

const USAGE = `usage:
  npm run cli -- accounts:create --name NAME --realm REALM [--id ACCOUNT_ID] [--parent ACCOUNT_ID] [--superadmin]
  npm run cli -- api-keys:create --account ACCOUNT_ID
  npm run cli -- users:create --account ACCOUNT_ID --name NAME --password PASSWORD|-
  npm run cli -- api-keys:revoke (--key API_KEY | --account ACCOUNT_ID)
  npm run cli -- tokens:revoke (--token=AUTH_TOKEN | --account ACCOUNT_ID)
  npm run cli -- registrations:reconcile
(a value that begins with '-', as a token may, is given as --token=VALUE)`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      realm: { type: 'string' },
      id: { type: 'string' },
      parent: { type: 'string' },
      superadmin: { type: 'boolean', default: false },
      account: { type: 'string' },
      password: { type: 'string' },
      key: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
  });
  if (command === 'users:create') return createUser(values);
  if (command === 'registrations:reconcile')
    return withDatabase(async (ds) => {
      const config = loadConfig();
      const r = await new ReconcileRegistrationsService(
        new RegistrationStore(ds, config),
        config,
      ).run();
      console.log(JSON.stringify(r));
    });
  if (isRevokeCommand(command)) {
    const only = command === 'api-keys:revoke' ? values.key : values.token;
    if ((only === undefined) === (values.account === undefined))
      throw new UsageError(
        `${command} needs either ${command === 'api-keys:revoke' ? '--key' : '--token'} or --account`,
      );
    return withDatabase((ds) => revoke(ds, command, { one: only, account: values.account }));
  }
  if (command !== 'accounts:create' && command !== 'api-keys:create')
    throw new UsageError(`unknown command ${command ?? '(none)'}`);
  if (command === 'accounts:create' && (!values.name || !values.realm))
    throw new UsageError('accounts:create needs --name and --realm');
  if (command === 'api-keys:create' && !values.account)
    throw new UsageError('api-keys:create needs --account');

  await withDatabase(async (ds) => {
    const accounts = new AccountStore(ds);
    const credentials = new CredentialStore(ds);
    let accountId: string;
    if (command === 'accounts:create') {
      const account = await accounts.createOrAdopt({
        id: (values.id ?? randomBytes(16).toString('hex')).toLowerCase(),
        name: values.name!,
        realm: values.realm!,
        parentId: values.parent?.toLowerCase(),
        isSuperadmin: values.superadmin,
      });
      accountId = account.id;
      console.error(
        `account ${account.id} (${account.name}, realm ${account.realm}${account.isSuperadmin ? ', super-admin' : ''})`,
      );
    } else {
      accountId = values.account!.toLowerCase();
      if (!(await accounts.get(accountId)))
        throw new AccountError('invalid_id', `no account ${accountId}`);
    }
    const apiKey = await credentials.createApiKey(accountId);
    console.log(JSON.stringify({ account_id: accountId, api_key: apiKey }));
  });
}

async function withDatabase(run: (ds: DataSource) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const ds = createDataSource(config.DATABASE_URL, 2, 'registrations-cli');
  await initializeDataSource(ds, config.DATABASE_URL, (m) => console.error(m));
  try {
    await run(ds);
  } finally {
    await ds.destroy();
  }
}

async function createUser(values: { account?: string; name?: string; password?: string }) {
  if (!values.account || !values.name || values.password === undefined)
    throw new UsageError('users:create needs --account, --name and --password');
  const password =
    values.password === '-' ? (await readStdin()).replace(/\r?\n$/, '') : values.password;
  const config = loadConfig();
  const ds = createDataSource(config.DATABASE_URL, 2, 'registrations-cli');
  await initializeDataSource(ds, config.DATABASE_URL, (m) => console.error(m));
  try {
    const accountId = values.account.toLowerCase();
    if (!(await new AccountStore(ds).get(accountId)))
      throw new AccountError('invalid_id', `no account ${accountId}`);
    const user = await new DialectUserStore(ds).createOrUpdate(accountId, values.name, password);
    console.log(JSON.stringify({ account_id: user.accountId, user: user.name }));
  } finally {
    await ds.destroy();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// `npm run cli` puts "--" before the arguments: tsconfig-paths/register reads the whole
// command line for -P/--project, and a value such as a token beginning with "-P" must not reach it.
const args = process.argv.slice(2);
main(args[0] === '--' ? args.slice(1) : args).catch((e: unknown) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (e instanceof ConfigError || e instanceof AccountError || e instanceof DialectUserError) {
    console.error(e.message);
    process.exit(1);
  }
  console.error(`cli failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
