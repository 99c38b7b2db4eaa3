// The commands that drop single registrations (sipXcom DELETE by Call-ID / IP / MAC, hosted-PBX
// DELETE of one registration): a reg_flush naming the AOR and the contact (Call-ID, Contact) for
// Kamailio, `flush_inbound_reg <call-id>` for the FreeSWITCH that holds the binding.
import { freeswitchFlush, freeswitchFlushCallId, OutboundCommand, regFlush } from '@app/messaging';
import type { ContactFlushTarget } from '@app/persistence';

export function contactFlushCommands(
  targets: readonly ContactFlushTarget[],
  fsRoutingKey: (hostname: string | null) => string,
): OutboundCommand[] {
  const commands: OutboundCommand[] = [];
  const seen = new Set<string>();
  const once = (key: string, build: () => OutboundCommand) => {
    if (seen.has(key)) return;
    seen.add(key);
    commands.push(build());
  };
  for (const t of targets) {
    if (t.origin === 'kazoo') {
      once(`k|${t.realm}|${t.username}|${t.call_id ?? ''}|${t.contact_uri}`, () =>
        regFlush(t.realm, t.username, { callId: t.call_id, contactUri: t.contact_uri }),
      );
      continue;
    }
    const profile = t.fs_profile ?? 'internal';
    const key = fsRoutingKey(t.fs_hostname);
    // Without a Call-ID FreeSWITCH can only be asked to drop the user's registrations.
    if (t.call_id)
      once(`f|${t.fs_hostname ?? ''}|${profile}|${t.call_id}`, () =>
        freeswitchFlushCallId(profile, t.call_id!, key),
      );
    else
      once(`f|${t.fs_hostname ?? ''}|${profile}|${t.username}@${t.realm}`, () =>
        freeswitchFlush(profile, t.username, t.realm, key),
      );
  }
  return commands;
}
