// The sipXcom use cases over the one store: list the live registrations a selector matches
// (in the caller's scope), and stop them through the shared flush path.
import { Injectable } from '@nestjs/common';
import { AccountScope, DialectQueries, DialectRow, LiveFilter } from '@app/persistence';
import { FlushRegistrationsService } from '../flush/flush-registrations.service';
import { DialectError } from './dialect-error';
import type { SipxcomPage, SipxcomSelector } from './sipxcom-selector';

@Injectable()
export class SipxcomRegistrationsService {
  constructor(
    private readonly queries: DialectQueries,
    private readonly flusher: FlushRegistrationsService,
  ) {}

  async list(
    scope: AccountScope,
    selector: SipxcomSelector,
    page: SipxcomPage,
  ): Promise<DialectRow[]> {
    return this.queries.listLive(scope, await this.filterOf(scope, selector), page);
  }

  /**
   * Stops the matching registrations, as sipXcom drops them: by user its whole AORs, otherwise
   * only the matching contacts (issue 15). Returns every binding ended.
   */
  async stop(scope: AccountScope, selector: SipxcomSelector): Promise<DialectRow[]> {
    const matching = await this.queries.listLive(scope, await this.filterOf(scope, selector));
    if (matching.length === 0) return [];
    const { ids } = await this.flusher.flush({
      ids: matching.map((r) => r.id),
      perContact: selector.kind !== 'user',
    });
    return this.queries.byIds(ids);
  }

  private async filterOf(scope: AccountScope, s: SipxcomSelector): Promise<LiveFilter> {
    switch (s.kind) {
      case 'all':
        return { by: 'all' };
      case 'user': {
        const ids = await this.queries.resolveUser(scope, s.userId);
        if (ids.length === 0) throw DialectError.notFound(`no user ${s.userId}`);
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
