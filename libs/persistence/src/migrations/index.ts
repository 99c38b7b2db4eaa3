import { InitialSchema1795400000000 } from './1795400000000-initial-schema';
import { Credentials1795500000000 } from './1795500000000-credentials';
import { ChangeOutbox1795600000000 } from './1795600000000-change-outbox';
import { DialectIndexes1795700000000 } from './1795700000000-dialect-indexes';
import { LiveAccountCovering1795800000000 } from './1795800000000-live-account-covering';
import { ChangeRelayCursor1795900000000 } from './1795900000000-change-relay-cursor';
import { BatchWriteCheck1796000000000 } from './1796000000000-batch-write-check';
import { ChangeOutboxBrin1796100000000 } from './1796100000000-change-outbox-brin';
import { AccountLiveCounts1796200000000 } from './1796200000000-account-live-counts';
import { AppliedFlushes1796250000000 } from './1796250000000-applied-flushes';
import { DialectUsers1796315000000 } from './1796315000000-dialect-users';
import { HotRefreshes1796317000000 } from './1796317000000-hot-refreshes';
import { ReconciledEndReason1796400000000 } from './1796400000000-reconciled-end-reason';
import { EndedLookupKeys1796665000000 } from './1796665000000-ended-lookup-keys';
import { ChangeAccountKeys1796700000000 } from './1796700000000-change-account-keys';
import { ChangeItemJson1796720000000 } from './1796720000000-change-item-json';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  InitialSchema1795400000000,
  Credentials1795500000000,
  ChangeOutbox1795600000000,
  DialectIndexes1795700000000,
  LiveAccountCovering1795800000000,
  ChangeRelayCursor1795900000000,
  BatchWriteCheck1796000000000,
  ChangeOutboxBrin1796100000000,
  AccountLiveCounts1796200000000,
  AppliedFlushes1796250000000,
  DialectUsers1796315000000,
  HotRefreshes1796317000000,
  ReconciledEndReason1796400000000,
  EndedLookupKeys1796665000000,
  ChangeAccountKeys1796700000000,
  ChangeItemJson1796720000000,
];
