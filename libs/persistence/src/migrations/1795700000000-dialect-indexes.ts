// Lookups of the sipXcom, hosted-PBX and history APIs: live bindings by MAC, by phone address
// (contact or source IP) and by the server holding them, and an account's history by user.
//
// One GIN index over a key array serves the live lookups: one index to maintain on the ingest
// path instead of five, over columns a refresh does not change (so it does not stand in the way
// of HOT updates), and cheap to compute (measured: a plpgsql call per address tripled the cost
// of a non-HOT refresh). IPv6 addresses compare in canonical form ("2001:DB8:0::1" is
// "2001:db8::1"); anything else (IPv4, host names) compares lower-cased.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class DialectIndexes1795700000000 implements MigrationInterface {
  name = 'DialectIndexes1795700000000';

  async up(q: QueryRunner): Promise<void> {
    // Index expressions must not depend on search_path: qualify the inner call.
    const [{ schema }] = await q.query(`SELECT quote_ident(current_schema()) AS schema`);
    // IPv6 needs the inet cast to compare spellings; a plpgsql exception handler keeps a value
    // that only looks like an address from failing the write. Only values with ':' get there:
    // the cast and its subtransaction cost too much on every write of an IPv4 binding.
    await q.query(`
      CREATE OR REPLACE FUNCTION reg_ipv6_key(v text) RETURNS text
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      BEGIN
        RETURN host(btrim(v, ' []')::inet);
      EXCEPTION WHEN others THEN
        RETURN lower(v);
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION reg_ip_key(v text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN strpos(v, ':') > 0 THEN ${schema}.reg_ipv6_key(v) ELSE lower(btrim(v)) END
      $$`);
    // m:<mac>, a:<contact address>, a:<source address>, s:<proxy address>, s:<proxy path host>,
    // s:<registrar node>, s:<its host part>.
    await q.query(`
      CREATE OR REPLACE FUNCTION reg_lookup_keys(
        mac text, contact_ip text, source_ip text, proxy_ip text, proxy_path text, registrar_node text
      ) RETURNS text[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_remove(ARRAY[
          'm:' || mac,
          'a:' || ${schema}.reg_ip_key(contact_ip),
          'a:' || ${schema}.reg_ip_key(source_ip),
          's:' || ${schema}.reg_ip_key(proxy_ip),
          's:' || ${schema}.reg_ip_key(substring(proxy_path from '^[A-Za-z]+:(?:[^@;>]*@)?(\\[[^]]+\\]|[^:;>]+)')),
          's:' || lower(registrar_node),
          's:' || lower(nullif(split_part(registrar_node, '@', 2), ''))
        ], NULL)
      $$`);
    await q.query(`
      CREATE INDEX registrations_live_lookup ON registrations
        USING gin (reg_lookup_keys(mac, contact_ip, source_ip, proxy_ip, proxy_path, registrar_node))
        WHERE ended_at IS NULL`);
    await q.query(`
      CREATE INDEX registration_history_account_user
        ON registration_history (account_id, username_key, ended_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX registration_history_account_user`);
    await q.query(`DROP INDEX registrations_live_lookup`);
    await q.query(`DROP FUNCTION reg_lookup_keys(text, text, text, text, text, text)`);
    await q.query(`DROP FUNCTION reg_ip_key(text)`);
    await q.query(`DROP FUNCTION reg_ipv6_key(text)`);
  }
}
