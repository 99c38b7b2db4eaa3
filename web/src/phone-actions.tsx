// One phone's actions from a row of the table: flush only this binding (one contact: Kamailio
// gets a reg_flush naming its Call-ID and Contact, FreeSWITCH flush_inbound_reg <call-id>), or
// re-provision the user's phones with a check-sync NOTIFY and no flush. The confirmation names
// user@realm, the contact and Call-ID, and the proxy; the result lists what was published
// (the API answers after the message bus confirmed it).
import { useState } from 'preact/hooks';
import { request } from './api';
import { ConfirmDialog } from './confirm-dialog';
import {
  BindingItem,
  contactFlushText,
  contactUri,
  describePublished,
  proxyText,
  Published,
} from './bindings';

export type PhoneAction = { kind: 'contact' | 'check-sync'; binding: BindingItem };

export function PhoneActionDialog(props: {
  accountId: string;
  action: PhoneAction;
  onDone: (text: string, action: PhoneAction) => void;
  onCancel: () => void;
}) {
  const { kind, binding: b } = props.action;
  const aor = `${b.username}@${b.realm}`;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const base = `/v2/console/accounts/${encodeURIComponent(props.accountId)}`;
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r =
        kind === 'contact'
          ? await request<{ published: Published[]; ended: number[] }>(
              'DELETE',
              `${base}/bindings/${encodeURIComponent(String(b.id))}`,
            )
          : await request<{ published: Published[] }>(
              'POST',
              `${base}/users/${encodeURIComponent(b.username)}/check_sync`,
            );
      const sent = r.data.published.map(describePublished);
      const what =
        kind === 'contact'
          ? `Flushed one phone of ${aor} (${contactUri(b)}); its other phones stay.`
          : `Sent check-sync to ${aor}; nothing was flushed.`;
      props.onDone(
        `${what} Published (confirmed by the message bus): ${sent.length ? sent.join('; ') : 'nothing'}.`,
        props.action,
      );
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog
      title={kind === 'contact' ? `Flush this phone of ${aor}?` : `Re-provision ${aor}?`}
      confirmLabel={kind === 'contact' ? 'Flush this phone' : 'Send check-sync'}
      busy={busy}
      onConfirm={() => void run()}
      onCancel={props.onCancel}
    >
      {kind === 'contact' ? (
        <div data-testid="confirm-text">
          <p>
            Only this binding of <strong>{aor}</strong> ends now; the user&apos;s other phones stay
            registered.
          </p>
          <dl class="facts">
            <dt>Contact</dt>
            <dd class="mono">{contactUri(b)}</dd>
            <dt>Call-ID</dt>
            <dd class="mono">{b.call_id ?? '(none)'}</dd>
            <dt>Held by</dt>
            <dd>{proxyText(b)}</dd>
            <dt>Sent</dt>
            <dd class="mono">{contactFlushText(b)}</dd>
          </dl>
        </div>
      ) : (
        <div data-testid="confirm-text">
          <p>
            Every phone of <strong>{aor}</strong> is sent a check-sync NOTIFY (by the switch that
            holds its subscription): it re-registers and fetches its configuration again. Nothing is
            flushed; no binding ends.
          </p>
          <dl class="facts">
            <dt>This phone</dt>
            <dd class="mono">{contactUri(b)}</dd>
            <dt>Held by</dt>
            <dd>{proxyText(b)}</dd>
          </dl>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
