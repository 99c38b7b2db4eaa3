// An extension's registration status as the hosted-PBX API shows it (api-dialects.md C):
// {registered, extension_id, registrations: [{device, real_address, contact_address, expires,
// registration_id}]}. expires is the Unix second after which the registration is lost (for an
// ended one: when it was lost); registration_id is the binding's stable id.
import { hostPort } from '@app/registrations';
import type { DialectRow } from '@app/persistence';

export interface ExtensionRegistration {
  device: string;
  real_address: string;
  contact_address: string;
  expires: number;
  registration_id: string;
}

export interface ExtensionStatus {
  registered: boolean;
  extension_id: number;
  registrations: ExtensionRegistration[];
}

export function toExtensionRegistration(r: DialectRow): ExtensionRegistration {
  const at = (ip: string | null, port: number | null) =>
    hostPort(ip ?? undefined, port ?? undefined);
  const contact = at(r.contactIp, r.contactPort) ?? '';
  return {
    device: r.userAgent ?? '',
    real_address: at(r.sourceIp, r.sourcePort) ?? at(r.networkIp, r.networkPort) ?? contact,
    contact_address: contact,
    expires: Math.floor(r.endedAtS ?? r.expiresAtS),
    registration_id: String(r.id),
  };
}

/** Live rows make it registered; otherwise the rows are its last ended registrations. */
export function toExtensionStatus(
  extensionId: number,
  live: DialectRow[],
  ended: DialectRow[],
): ExtensionStatus {
  return {
    registered: live.length > 0,
    extension_id: extensionId,
    registrations: (live.length > 0 ? live : ended).map(toExtensionRegistration),
  };
}
