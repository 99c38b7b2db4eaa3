// What the operator's console needs beyond the Kazoo API: who the token is (and the accounts it
// may choose from), and where the change feed stands, so the console can open the feed after
// that position instead of receiving a snapshot of every binding.
import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ConsoleQueries } from '@app/persistence';
import { AuthService } from '../auth/auth.service';
import { envelope } from '../kazoo/kazoo-envelope';
import { ApiError } from '../common/api-error';
import { KazooListService } from '../kazoo/kazoo-list.service';
import { ConsoleHealthService } from './console-health.service';
import { encodeStartKey } from '../kazoo/list-query';
import { SORT_KEYS } from '@app/persistence';
import { encodeSortedStartKey, parseConsoleListQuery } from './console-list-query';

const DEFAULT_PAGE = 50;

@ApiTags('console')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2')
export class ConsoleController {
  constructor(
    private readonly auth: AuthService,
    private readonly queries: ConsoleQueries,
    private readonly pages: KazooListService,
    private readonly health: ConsoleHealthService,
  ) {}

  @Get('console/health')
  @ApiOperation({
    summary:
      'Ingest health (any signed-in account; no tenant data): database, the ingest app (readiness, events consumed and per second, dead-lettered), and the messages waiting in its queues',
  })
  async ingestHealth(@Req() req: FastifyRequest) {
    const principal = await this.auth.authenticate(req);
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      await this.health.read(),
    );
  }

  @Get('console/accounts/:accountId/bindings')
  @ApiOperation({
    summary:
      'A page of live bindings as GET …/registrations lists them (same page_size, start_key and filter_<key>, incl. filter_mac), each item with its id, refresh_count, mac and held_by (kamailio, or freeswitch with hostname and profile) added. With sort=<key> (and order), the whole filtered set in that order, paged by next_start_key (keyset on the key and the binding id).',
  })
  @ApiQuery({
    name: 'sort',
    required: false,
    enum: SORT_KEYS,
    description:
      'order of the whole filtered set (default: username, realm, contact as the Kazoo list); ties by binding id; a start_key from one sort is refused (400) by another',
  })
  @ApiQuery({
    name: 'order',
    required: false,
    enum: ['asc', 'desc'],
    description: 'with sort; default asc',
  })
  @ApiQuery({
    name: 'search_username',
    required: false,
    description: 'users whose name starts with this (without case); not in the Kazoo list',
  })
  @ApiQuery({
    name: 'search_user_agent',
    required: false,
    description: 'user agents containing this (without case); not in the Kazoo list',
  })
  @ApiQuery({ name: 'page_size', required: false, description: '1–1000, default 50' })
  @ApiQuery({
    name: 'start_key',
    required: false,
    description: 'next_start_key of the previous page',
  })
  async bindings(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const q = parseConsoleListQuery(accountId, query);
    const page = await this.pages.page(q, q.pageSize ?? DEFAULT_PAGE);
    const extras = await this.queries.extras(page.rows.map((r) => r.id));
    const data = page.items.map((text, i) => {
      const id = page.rows[i].id;
      const extra = extras.get(id);
      return {
        ...(JSON.parse(text) as Record<string, unknown>),
        id,
        refresh_count: extra?.refreshCount ?? 0,
        ...(extra?.mac ? { mac: extra.mac } : {}),
        ...(extra ? { held_by: extra.heldBy } : {}),
      };
    });
    const more: Record<string, unknown> = { page_size: data.length };
    if (page.last)
      more.next_start_key = q.sort
        ? encodeSortedStartKey(q.sort, page.last)
        : encodeStartKey(page.last);
    if (q.sort) Object.assign(more, { sort: q.sort.key, order: q.sort.desc ? 'desc' : 'asc' });
    return envelope({ authToken: principal.token, requestId: String(req.id) }, data, more);
  }

  @Get('console/session')
  @ApiOperation({
    summary: "The token's account, whether it is a super-admin, and the accounts it may act on",
  })
  async session(@Req() req: FastifyRequest) {
    const principal = await this.auth.authenticate(req);
    const accounts = await this.queries.subtree(principal.accountId);
    const own = accounts[0];
    if (!own) throw ApiError.unauthenticated();
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      {
        account_id: own.id,
        account_name: own.name,
        realm: own.realm,
        is_superadmin: principal.isSuperadmin,
        accounts: accounts.map((a) => ({
          id: a.id,
          name: a.name,
          realm: a.realm,
          parent_id: a.parentId,
        })),
      },
    );
  }

  @Get('accounts/:accountId/registrations/changes/position')
  @ApiOperation({
    summary:
      'The newest change feed position: open …/registrations/changes?since=<seq> to get what changes after it (no snapshot)',
  })
  async position(@Req() req: FastifyRequest, @Param('accountId') accountId: string) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const seq = await this.queries.position();
    return envelope({ authToken: principal.token, requestId: String(req.id) }, { seq });
  }
}
