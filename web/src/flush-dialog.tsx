// Flushing from the console: one SIP user (every contact of it; one contact alone is
// phone-actions.tsx) or the whole account. The
// confirmation names what will be sent and what ends; the result is shown once the API
// answered, which it does after the message bus confirmed the commands.
import { useState } from 'preact/hooks';
import { accountPath, send } from './api';
import { ConfirmDialog } from './confirm-dialog';

export type FlushRequest =
  | { kind: 'user'; username: string; realm: string; contacts: number }
  | { kind: 'account'; total?: number; label: string };

export function FlushDialog(props: {
  accountId: string;
  request: FlushRequest;
  onDone: (text: string, req: FlushRequest) => void;
  onCancel: () => void;
}) {
  const r = props.request;
  const [checkSync, setCheckSync] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (r.kind === 'user') {
        await send(
          'DELETE',
          `${accountPath(props.accountId)}/${encodeURIComponent(r.username)}?check_sync=${checkSync}`,
        );
        props.onDone(
          `Flushed ${r.username}: the proxies were sent reg_flush${checkSync ? ' and a check-sync NOTIFY' : ''} (confirmed by the message bus); its bindings have ended.`,
          r,
        );
      } else {
        await send('DELETE', accountPath(props.accountId));
        props.onDone(
          `Flushed account ${r.label}: reg_flush sent for each of its realms (confirmed by the message bus); every binding has ended.`,
          r,
        );
      }
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog
      title={r.kind === 'user' ? `Flush ${r.username}?` : `Flush account ${r.label}?`}
      confirmLabel={r.kind === 'user' ? `Flush ${r.username}` : 'Flush every binding'}
      busy={busy}
      onConfirm={() => void run()}
      onCancel={props.onCancel}
    >
      {r.kind === 'user' ? (
        <>
          <p data-testid="confirm-text">
            Kamailio is sent <code>reg_flush</code> for <strong>{r.username}</strong> in every realm
            of this account, and every live binding of that user ends now ({r.contacts} shown here).
            To end one phone alone, use <em>Flush this phone</em> on its row.
          </p>
          <label class="check">
            <input
              type="checkbox"
              checked={checkSync}
              onChange={(e) => setCheckSync((e.target as HTMLInputElement).checked)}
            />
            Also send the phone a check-sync NOTIFY so it re-registers (and re-provisions) now
          </label>
        </>
      ) : (
        <p data-testid="confirm-text">
          Every live binding of account <strong>{r.label}</strong>
          {r.total === undefined ? '' : ` (${r.total.toLocaleString('en')})`} ends now, and the
          proxies are sent <code>reg_flush</code> for each of its realms. Phones stay unreachable
          until they register again.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </ConfirmDialog>
  );
}
