// Reading a lane's next batch while its current batch is written. A lane (one queue) applies
// its batches one after the other, so each batch's pre-read would otherwise wait for the
// previous write (bench/ingest: the read was a quarter of a batch's time). The read-ahead reads
// the AORs of the messages that follow; once the current batch committed, its own writes are
// laid over that read (withWritten), which gives what the database holds for the next batch,
// but for other writers (a flush, the sweeper, the other lane): the write's row-version check
// catches their changes, as it does for any optimistic read. Whatever the read-ahead did not
// cover (messages that came later, an AOR now to be read whole) is read when the batch comes.
// One ReadAhead per lane, owned by the lane (apps/ingest's IngestLane): the store keeps no
// per-lane state, it only fills and takes what the lane hands it with each batch.
import type { DataSource } from 'typeorm';
import { aorKey, RegistrationEvent } from '@app/registrations';
import {
  AorRef,
  batchAors,
  readStoredAors,
  StoredAors,
  withFresh,
  withWritten,
  WrittenBinding,
} from './stored-aors';

interface Pending {
  aors: Map<string, AorRef>;
  realms: Set<string>;
  read: Promise<StoredAors | undefined>;
  /** Set once the batch that started it committed: what that batch wrote. */
  written?: readonly WrittenBinding[];
}

export class ReadAhead {
  private pending: Pending | undefined;

  /** Reads the AORs of `events` for the lane's next batch, beside the batch being written. */
  start(db: DataSource, events: readonly RegistrationEvent[]): void {
    if (events.length === 0) return;
    const aors = batchAors(events);
    const realms = new Set<string>();
    for (const e of events) if (!e.account) realms.add(e.realm.toLowerCase());
    const read = readStoredAors(db, [...aors.values()], [...realms], false).catch(
      () => undefined, // only a hint: the batch reads for itself
    );
    this.pending = { aors, realms, read };
  }

  /** The lane's batch that started the read-ahead committed, having written `written`. */
  committed(written: readonly WrittenBinding[]): void {
    const p = this.pending;
    if (p && !p.written) p.written = written;
  }

  /** The lane's batch failed: what it started reading is no use. */
  discard(): void {
    this.pending = undefined;
  }

  /**
   * What the store holds of `aors` for the lane's batch, from the read-ahead (reading now what it
   * did not cover), or undefined if there is none to use.
   */
  async take(
    db: DataSource,
    aors: ReadonlyMap<string, AorRef>,
    realms: ReadonlySet<string>,
  ): Promise<StoredAors | undefined> {
    const p = this.pending;
    this.pending = undefined;
    if (!p?.written) return undefined;
    const read = await p.read;
    if (!read) return undefined;
    let stored = withWritten(read, p.aors, p.written);
    const missing = [...aors.values()].filter((a) => {
      const had = p.aors.get(aorKey(a.realm_key, a.username_key));
      return !had || (a.whole && !had.whole);
    });
    const missingRealms = [...realms].filter((r) => !p.realms.has(r));
    // (A read of no AOR returns no row, so no realm owners either: read it all again then.)
    if (missing.length === 0 && missingRealms.length > 0) return undefined;
    if (missing.length > 0) {
      const fresh = await readStoredAors(db, missing, missingRealms, false);
      stored = withFresh(
        stored,
        fresh,
        new Set(missing.map((a) => aorKey(a.realm_key, a.username_key))),
      );
    }
    return stored;
  }
}
