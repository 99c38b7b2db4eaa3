// The change feed (SSE) of one account, opened after a position read just before the list, so
// no snapshot is sent: only what changes after it. EventSource resumes by itself
// (Last-Event-ID); when it gives up (410 position expired, 401, server gone) the view reloads.
import type { BindingItem } from './bindings';
import { accountPath } from './api';

export const CHANGES = [
  'registered',
  'refreshed',
  'unregistered',
  'expired',
  'flushed',
  'replaced',
  'reconciled',
] as const;
export type ChangeKind = (typeof CHANGES)[number];

export interface ChangeEvent {
  seq: number;
  change: ChangeKind;
  occurred_at: string;
  account_id: string | null;
  registration: BindingItem;
}

export function openFeed(
  accountId: string,
  since: number,
  token: string,
  on: { change(e: ChangeEvent): void; closed(): void; open(): void },
): () => void {
  const url = `${accountPath(accountId)}/changes?since=${since}&auth_token=${encodeURIComponent(token)}`;
  const es = new EventSource(url);
  const handler = (ev: MessageEvent<string>) => {
    try {
      on.change(JSON.parse(ev.data) as ChangeEvent);
    } catch {
      // a malformed event is skipped; the next list read corrects the view
    }
  };
  for (const c of CHANGES) es.addEventListener(c, handler as EventListener);
  es.onopen = () => on.open();
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) on.closed();
  };
  return () => es.close();
}
