// The sipXcom use cases over the one store: list the live registrations a selector matches
// (in the caller's scope), and stop them through the shared flush path.
import { Injectable } from '@nestjs/common';
import { AccountScope, DialectQueries, DialectRow, LiveFilter } from '@app/persistence';
import { FlushRegistrationsService } from '../flush/flush-registrations.service';
import { ApiError } from '../common/api-error';
import type { SipxcomPage, SipxcomSelector } from './sipxcom-selector';

@Injectable()
export class SipxcomRegistrationsService {
  constructor(
    private readonly queries: DialectQueries,
    private readonly flusher: FlushRegistrationsService,
  ) {}

  /** Pages (newest expiry first) only the whole list and a user's list, as sipXconfig does. */
  async list(
    scope: AccountScope,
    selector: SipxcomSelector,
    page: SipxcomPage | undefined,
  ): Promise<DialectRow[]> {
    const paged = page && (selector.kind === 'all' || selector.kind === 'user');
    const rows = await this.queries.listLive(
      scope,
      await this.filterOf(scope, selector),
      paged ? { ...page, order: 'expires_desc' } : {},
    );
    if (rows.length === 0) await this.requireKnown(scope, selector);
    return rows;
  }

  /**
   * Stops the matching registrations, as sipXcom drops them: by user its whole AORs, otherwise
   * only the matching contacts (issue 15). Returns every binding ended.
   */
  async stop(scope: AccountScope, selector: SipxcomSelector): Promise<DialectRow[]> {
    const matching = await this.queries.listLive(scope, await this.filterOf(scope, selector));
    if (matching.length === 0) {
      await this.requireKnown(scope, selector);
      return [];
    }
    const { ids } = await this.flusher.flush({
      ids: matching.map((r) => r.id),
      perContact: selector.kind !== 'user',
    });
    return this.queries.byIds(ids);
  }

  /**
   * sipXconfig answers 404 for a phone (MAC) or server it does not know (RegistrationApiImpl:
   * getPhoneBySerialNumber / getLocationByIdOrFqdn null); here, known = ever held a binding.
   */
  private async requireKnown(scope: AccountScope, s: SipxcomSelector): Promise<void> {
    if (s.kind === 'mac' && !(await this.queries.seen(scope, { by: 'mac', mac: s.mac })))
      throw ApiError.notFound('Phone not found');
    if (
      s.kind === 'server' &&
      !(await this.queries.seen(scope, { by: 'server', server: s.server }))
    )
      throw ApiError.notFound('Server not found');
  }

  private async filterOf(scope: AccountScope, s: SipxcomSelector): Promise<LiveFilter> {
    switch (s.kind) {
      case 'all':
        return { by: 'all' };
      case 'user': {
        const ids = await this.queries.resolveUser(scope, s.userId);
        if (ids.length === 0) throw ApiError.notFound(`no user ${s.userId}`);
        return { by: 'extensions', ids };
      }
      case 'mac':
        return { by: 'mac', mac: s.mac };
      case 'address':
        return { by: 'address', address: s.address };
      case 'callId':
        return { by: 'callId', callId: s.callId };
      case 'server':
        return { by: 'server', server: s.server };
    }
  }
}
