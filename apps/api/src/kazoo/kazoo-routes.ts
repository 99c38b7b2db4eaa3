// The Kazoo paths and the methods each accepts, from the Kazoo controllers' route metadata
// (common/route-table.ts): any other method is 405 (not 404). `count` is the only sub-resource
// Kazoo reserves (@ReservedParamValues on the DELETE of a username); DELETE on …/changes or
// …/history flushes a SIP user of that name. The console's and the change schema's paths are
// not Kazoo's: an unknown method there stays a 404.
import { RouteTable } from '../common/route-table';
import { ApiAuthController } from './api-auth.controller';
import { KazooRegistrationsController } from './registrations.controller';
import { ChangesController } from '../changes/changes.controller';
import { RegistrationHistoryController } from '../history/registration-history.controller';
import { ReconcileController } from './reconcile.controller';

let table: RouteTable | undefined;

/** The methods allowed on a known path, or undefined when the path is not ours. */
export function allowedMethods(url: string): string[] | undefined {
  // Built on first use: the controllers import this module (a cycle at load time).
  table ??= RouteTable.of(
    [
      ApiAuthController,
      KazooRegistrationsController,
      ChangesController,
      RegistrationHistoryController,
      ReconcileController,
    ],
    { head: false },
  );
  return table.allowedMethods(url);
}
