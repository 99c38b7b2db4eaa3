// Accounts: a tree (parent_id) with a super-admin flag. Created by the CLI or first seen in
// events; a new account (or a new realm) claims the bindings and extensions of its realm that
// had no account.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface Account {
  id: string;
  name: string | null;
  realm: string | null;
  parentId: string | null;
  isSuperadmin: boolean;
}

export interface CreateAccount {
  id: string;
  name: string;
  realm: string;
  parentId?: string;
  isSuperadmin?: boolean;
}

export class AccountError extends Error {
  constructor(
    readonly code: 'unknown_parent' | 'invalid_id' | 'cycle',
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT_ID = /^[0-9a-f]{32}$/;

@Injectable()
export class AccountStore {
  constructor(private readonly ds: DataSource) {}

  async get(id: string): Promise<Account | undefined> {
    const [row] = await this.ds.query(
      `SELECT id, name, realm, parent_id, is_superadmin FROM accounts WHERE id = $1`,
      [id],
    );
    return row ? toAccount(row) : undefined;
  }

  /** Creates the account, or adopts one first seen in events (same id): name, realm, parent, flag are set. */
  async createOrAdopt(a: CreateAccount): Promise<Account> {
    if (!ACCOUNT_ID.test(a.id))
      throw new AccountError('invalid_id', `account id must be 32 lower-case hex digits: ${a.id}`);
    if (a.parentId !== undefined) {
      if (!(await this.get(a.parentId)))
        throw new AccountError('unknown_parent', `no account ${a.parentId}`);
      if ((await this.ancestors(a.parentId)).includes(a.id))
        throw new AccountError('cycle', `${a.id} is an ancestor of ${a.parentId}`);
    }
    const [row] = await this.ds.query(
      `WITH upserted AS (
         INSERT INTO accounts (id, name, realm, parent_id, is_superadmin) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, realm = EXCLUDED.realm,
           parent_id = COALESCE(EXCLUDED.parent_id, accounts.parent_id),
           is_superadmin = EXCLUDED.is_superadmin OR accounts.is_superadmin, updated_at = now()
         RETURNING id, name, realm, realm_key, parent_id, is_superadmin
       ), claim_bindings AS (
         UPDATE registrations r SET account_id = u.id FROM upserted u
          WHERE r.realm_key = u.realm_key AND r.account_id IS NULL
       ), claim_extensions AS (
         UPDATE extensions e SET account_id = u.id FROM upserted u
          WHERE e.realm_key = u.realm_key AND e.account_id IS NULL
       )
       SELECT id, name, realm, parent_id, is_superadmin FROM upserted`,
      [a.id, a.name, a.realm, a.parentId ?? null, a.isSuperadmin ?? false],
    );
    return toAccount(row);
  }

  /** The account itself and every ancestor up to the root, nearest first. */
  async ancestors(id: string): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(
      `WITH RECURSIVE up(id, parent_id, depth) AS (
         SELECT id, parent_id, 0 FROM accounts WHERE id = $1
         UNION ALL
         SELECT a.id, a.parent_id, up.depth + 1 FROM accounts a JOIN up ON a.id = up.parent_id WHERE up.depth < 64
       ) SELECT id FROM up ORDER BY depth`,
      [id],
    );
    return rows.map((r) => r.id);
  }
}

function toAccount(row: Record<string, unknown>): Account {
  return {
    id: row.id as string,
    name: (row.name as string | null) ?? null,
    realm: (row.realm as string | null) ?? null,
    parentId: (row.parent_id as string | null) ?? null,
    isSuperadmin: row.is_superadmin === true,
  };
}
