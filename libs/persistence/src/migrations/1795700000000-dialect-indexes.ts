// Lookups of the sipXcom, hosted-PBX and history APIs: live bindings by MAC, by phone address
// (contact or source IP) and by the server holding them, and an account's history by user.
//
// One GIN index over a key array serves the live lookups: one index to maintain on the ingest
// path instead of five, over columns a refresh does not change. Addresses are compared in
// canonical form (host(inet): "2001:DB8:0::1" and "2001:db8::1" are one address); anything that
// is not an IP address (a host name) compares lower-cased.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class DialectIndexes1795700000000 implements MigrationInterface {
  name = 'DialectIndexes1795700000000';

  async up(q: QueryRunner): Promise<void> {
    // Index expressions must not depend on search_path: qualify the inner call.
    const [{ schema }] = await q.query(`SELECT quote_ident(current_schema()) AS schema`);
    await q.query(`
      CREATE OR REPLACE FUNCTION reg_ip_key(v text) RETURNS text
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      DECLARE
        s text := lower(btrim(v, ' []'));
      BEGIN
        IF s ~ '^[0-9a-f:.]+$' AND (s ~ ':' OR s ~ '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$') THEN
          BEGIN
            RETURN host(s::inet);
          EXCEPTION WHEN others THEN
            RETURN s;
          END;
        END IF;
        RETURN s;
      END $$`);
    // m:<mac>, a:<contact address>, a:<source address>, s:<proxy address, proxy path host,
    // registrar node, its host part>.
    await q.query(`
      CREATE OR REPLACE FUNCTION reg_lookup_keys(
        mac text, contact_ip text, source_ip text, proxy_ip text, proxy_path text, registrar_node text
      ) RETURNS text[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_remove(ARRAY[
          'm:' || lower(mac),
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
  }
}
