// One ended segment of a binding's life, as the history API lists it: who and where, when it
// started (initial_registration), was last refreshed and ended (Gregorian seconds, as Kazoo's
// other timestamps), how many refreshes it had, and why it ended. Missing values are omitted.
import { GREGORIAN_OFFSET_S, kazooContact } from '@app/registrations';
import type { HistoryRow } from '@app/persistence';

export type HistoryItem = Record<string, string | number>;

const gregorian = (unixS: number) => Math.floor(unixS) + GREGORIAN_OFFSET_S;

export function toHistoryItem(r: HistoryRow): HistoryItem {
  const item: Record<string, string | number | null | undefined> = {
    registration_id: r.id,
    extension_id: r.extensionId,
    username: r.username,
    realm: r.realm,
    contact: kazooContact(r.originalContact),
    original_contact: r.originalContact,
    contact_ip: r.contactIp,
    contact_port: r.contactPort,
    source_ip: r.sourceIp,
    source_port: r.sourcePort,
    call_id: r.callId,
    user_agent: r.userAgent,
    mac: r.mac,
    proxy_ip: r.proxyIp,
    proxy_path: r.proxyPath,
    registrar_node: r.registrarNode,
    initial_registration: gregorian(r.firstRegisteredS),
    last_registration: gregorian(r.lastRegisteredS),
    refresh_count: r.refreshCount,
    ended: r.endedAtS === null ? undefined : gregorian(r.endedAtS),
    end_reason: r.endReason,
    duration_seconds:
      r.endedAtS === null ? undefined : Math.max(0, Math.round(r.endedAtS - r.firstRegisteredS)),
  };
  for (const k of Object.keys(item)) if (item[k] === null || item[k] === undefined) delete item[k];
  return item as HistoryItem;
}
