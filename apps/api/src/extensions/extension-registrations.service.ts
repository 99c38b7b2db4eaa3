// The hosted-PBX use cases over the one store: the registration status of extensions (live
// bindings, or the last ended ones from history), and deleting an extension's registrations
// through the shared flush path. Extensions outside the caller's scope are refused.
import { Injectable } from '@nestjs/common';
import { AccountScope, DialectQueries, DialectRow } from '@app/persistence';
import { FlushRegistrationsService } from '../flush/flush-registrations.service';
import { AccountScopeService } from '../common/account-scope.service';
import { ApiError } from '../common/api-error';
import { ExtensionStatus, toExtensionStatus } from './extension-registration.presenter';

@Injectable()
export class ExtensionRegistrationsService {
  constructor(
    private readonly queries: DialectQueries,
    private readonly flusher: FlushRegistrationsService,
  ) {}

  /** 404 when an id names no extension, 403 when one belongs to an account out of scope. */
  async authorize(scope: AccountScope, ids: readonly number[]): Promise<void> {
    const owners = await this.queries.extensionOwners(ids);
    const unknown = ids.filter((id) => !owners.has(id));
    if (unknown.length > 0) throw ApiError.notFound(`no extension ${unknown.join(', ')}`);
    if (ids.some((id) => !AccountScopeService.includes(scope, owners.get(id) ?? null)))
      throw ApiError.forbidden();
  }

  /** Status of each extension, in the order asked. */
  async statusOf(scope: AccountScope, ids: readonly number[]): Promise<ExtensionStatus[]> {
    if (ids.length === 0) return [];
    const live = groupByExtension(await this.queries.listLive(scope, { by: 'extensions', ids }));
    const idle = ids.filter((id) => !live.has(id));
    const ended = groupByExtension(await this.queries.lastEnded(idle));
    return ids.map((id) => toExtensionStatus(id, live.get(id) ?? [], ended.get(id) ?? []));
  }

  /** Every extension in scope, one page in id order. */
  async page(scope: AccountScope, offset: number, limit: number): Promise<ExtensionStatus[]> {
    return this.statusOf(scope, await this.queries.listExtensions(scope, offset, limit));
  }

  /**
   * Ends one live registration of the extension, only that contact (reg_flush naming it, or
   * FreeSWITCH flush_inbound_reg <call-id>); 404 when the extension has no such live one.
   */
  async stopOne(scope: AccountScope, id: number, registrationId: number): Promise<void> {
    const live = await this.queries.listLive(scope, { by: 'extensions', ids: [id] });
    if (!live.some((r) => r.id === registrationId))
      throw ApiError.notFound(`extension ${id} has no live registration ${registrationId}`);
    await this.flusher.flush({ ids: [registrationId], perContact: true });
  }

  /** Ends the extension's live registrations; returns how many bindings ended. */
  async stop(scope: AccountScope, id: number): Promise<number> {
    const live = await this.queries.listLive(scope, { by: 'extensions', ids: [id] });
    if (live.length === 0) return 0;
    return (await this.flusher.flush({ ids: live.map((r) => r.id) })).flushed;
  }
}

function groupByExtension(rows: DialectRow[]): Map<number, DialectRow[]> {
  const out = new Map<number, DialectRow[]>();
  for (const r of rows) {
    if (r.extensionId === null) continue;
    const list = out.get(r.extensionId) ?? [];
    list.push(r);
    out.set(r.extensionId, list);
  }
  return out;
}
