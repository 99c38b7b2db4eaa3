// Which accounts a caller sees where a request names no account (the sipXcom and hosted-PBX
// dialects): a super-admin every account, anyone else their own account and its descendants.
import { Injectable } from '@nestjs/common';
import { AccountScope, DialectQueries } from '@app/persistence';
import type { Principal } from '../auth/auth.service';

@Injectable()
export class AccountScopeService {
  constructor(private readonly queries: DialectQueries) {}

  async scopeOf(principal: Principal): Promise<AccountScope> {
    if (principal.isSuperadmin) return { all: true };
    return { accountIds: await this.queries.subtree(principal.accountId) };
  }

  /** Whether an account (null: a realm no account owns) is in scope. */
  static includes(scope: AccountScope, accountId: string | null): boolean {
    return scope.all === true || (accountId !== null && scope.accountIds.includes(accountId));
  }
}
