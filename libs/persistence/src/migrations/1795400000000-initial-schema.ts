// Accounts, live bindings (with tombstones of recently ended ones), history of ended bindings,
// and extensions (a stable integer id per SIP user). See docs/design.md for the reasoning.
import { MigrationInterface, QueryRunner } from 'typeorm';

const BINDING_COLUMNS_SQL = `
  realm_key text NOT NULL,
  username_key text NOT NULL,
  contact_uri text NOT NULL,
  account_id text,
  origin text NOT NULL,
  realm text NOT NULL,
  username text NOT NULL,
  original_contact text NOT NULL,
  contact_ip text,
  contact_port int,
  call_id text,
  user_agent text,
  expires int NOT NULL,
  event_us bigint NOT NULL,
  last_msg_id text,
  first_registered_at timestamptz NOT NULL,
  last_registered_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  refresh_count int NOT NULL DEFAULT 0,
  ended_at timestamptz,
  end_reason text CHECK (end_reason IN ('unregistered', 'expired', 'flushed', 'replaced')),
  source_ip text,
  source_port int,
  network_ip text,
  network_port int,
  proxy_path text,
  proxy_ip text,
  proxy_port int,
  proxy_protocol text,
  registrar_node text,
  from_user text,
  from_host text,
  to_user text,
  to_host text,
  authorizing_id text,
  authorizing_type text,
  owner_id text,
  suppress_unregister_notify boolean,
  sip_instance text,
  mac text,
  fs_profile text,
  fs_hostname text`;

export class InitialSchema1795400000000 implements MigrationInterface {
  name = 'InitialSchema1795400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
        name text,
        realm text,
        realm_key text GENERATED ALWAYS AS (lower(realm)) STORED,
        parent_id text REFERENCES accounts(id),
        is_superadmin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX accounts_realm_key ON accounts (realm_key, created_at)`);
    await q.query(`CREATE INDEX accounts_parent ON accounts (parent_id)`);

    // fillfactor 80 leaves room on each page for refresh updates.
    await q.query(`
      CREATE TABLE registrations (
        id bigserial PRIMARY KEY,
        ${BINDING_COLUMNS_SQL},
        CONSTRAINT registrations_binding UNIQUE (realm_key, username_key, contact_uri)
      ) WITH (fillfactor = 80)`);
    // Listing an account's live bindings in a stable order (and paging with start_key).
    await q.query(
      `CREATE INDEX registrations_live_account ON registrations (account_id, username_key, realm_key, contact_uri) WHERE ended_at IS NULL`,
    );
    // The sweeper: live bindings by expiry.
    await q.query(
      `CREATE INDEX registrations_live_expiry ON registrations (expires_at) WHERE ended_at IS NULL`,
    );
    // Replacement (same Call-ID, new contact) and call-id lookups.
    await q.query(
      `CREATE INDEX registrations_live_call ON registrations (call_id) WHERE ended_at IS NULL`,
    );
    // Pruning tombstones.
    await q.query(
      `CREATE INDEX registrations_ended ON registrations (ended_at) WHERE ended_at IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE registration_history (
        id bigserial PRIMARY KEY,
        registration_id bigint NOT NULL,
        ${BINDING_COLUMNS_SQL}
      )`);
    await q.query(
      `ALTER TABLE registration_history ALTER COLUMN ended_at SET NOT NULL, ALTER COLUMN end_reason SET NOT NULL`,
    );
    await q.query(
      `CREATE INDEX registration_history_account ON registration_history (account_id, ended_at DESC)`,
    );
    await q.query(
      `CREATE INDEX registration_history_aor ON registration_history (realm_key, username_key, ended_at DESC)`,
    );
    await q.query(`CREATE INDEX registration_history_ended ON registration_history (ended_at)`);

    await q.query(`
      CREATE TABLE extensions (
        id serial PRIMARY KEY,
        realm_key text NOT NULL,
        username_key text NOT NULL,
        account_id text,
        realm text NOT NULL,
        username text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT extensions_aor UNIQUE (realm_key, username_key)
      )`);
    await q.query(`CREATE INDEX extensions_account ON extensions (account_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE extensions`);
    await q.query(`DROP TABLE registration_history`);
    await q.query(`DROP TABLE registrations`);
    await q.query(`DROP TABLE accounts`);
  }
}
