// Kazoo's /v2 registrations API (api-dialects.md A): list, count, flush all, flush one, and a
// system-wide count for super-admins. Every answer is in Kazoo's envelope.
import { Controller, Delete, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify } from 'csv-stringify/sync';
import { AuthService } from '../auth/auth.service';
import { FlushError, FlushRegistrationsService } from '../flush/flush-registrations.service';
import { envelope, envelopeJson, KazooError } from './kazoo-envelope';
import { KAZOO_ITEM_KEYS } from './kazoo-registration.presenter';
import type { KazooItem } from '@app/registrations';
import { KazooListService } from './kazoo-list.service';
import { encodeStartKey, parseListQuery } from './list-query';
import { negotiate } from '../http/content-negotiation';
import { RegistrationQueries } from '@app/persistence';
import { ApiError } from '../common/api-error';
import { allowedMethods } from './kazoo-routes';
import { ReservedParamValues } from '../common/route-table';

/** Sub-resources Kazoo reserves beside usernames: DELETE on them is a 405, not a flush. */
const RESERVED_USERNAMES = ['count'];

@ApiTags('kazoo')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2')
export class KazooRegistrationsController {
  constructor(
    private readonly auth: AuthService,
    private readonly queries: RegistrationQueries,
    private readonly flusher: FlushRegistrationsService,
    private readonly pages: KazooListService,
  ) {}

  @Get('accounts/:accountId/registrations')
  @ApiOperation({ summary: "List the account's live registrations (Accept: text/csv for CSV)" })
  @ApiParam({ name: 'accountId', description: '32 hex digits' })
  @ApiQuery({
    name: 'page_size',
    required: false,
    description: 'page length (1–1000); without it every binding is returned, as Kazoo does',
  })
  @ApiQuery({
    name: 'start_key',
    required: false,
    description: 'next_start_key of the previous page',
  })
  @ApiQuery({
    name: 'filter_<key>',
    required: false,
    description: 'exact match on any item key, e.g. filter_user_agent=…',
  })
  async list(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('accountId') accountId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    return this.renderList(req, reply, principal.token, accountId, query);
  }

  // cb_registrations:get_realm/1 (Kazoo 4.3): no account in the path → realm "all", every
  // binding of the system; crossbar leaves it to super-admins (cb_simple_authz).
  @Get('registrations')
  @ApiOperation({
    summary: 'List every live registration of the system (super-admin; paging, filters, CSV)',
  })
  async listAll(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() query: Record<string, unknown>,
  ) {
    const principal = await this.auth.authenticate(req);
    this.auth.requireSuperadmin(principal);
    return this.renderList(req, reply, principal.token, undefined, query);
  }

  private async renderList(
    req: FastifyRequest,
    reply: FastifyReply,
    authToken: string,
    accountId: string | undefined,
    query: Record<string, unknown>,
  ) {
    const q = parseListQuery(accountId, query);
    const { rows: page, items: data, last } = await this.pages.page(q, q.pageSize);
    if (wantsCsv(req, query)) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      if (last) void reply.header('x-next-start-key', encodeStartKey(last));
      return stringify(
        data.map((item) => JSON.parse(item) as KazooItem),
        { header: true, columns: [...KAZOO_ITEM_KEYS], cast: { boolean: (v) => String(v) } },
      );
    }
    const extra: Record<string, unknown> = { page_size: page.length };
    if (last) extra.next_start_key = encodeStartKey(last);
    if (q.after) extra.start_key = query.start_key;
    // Each binding's id and last event time identify the page's content.
    const fingerprint =
      page.map((r) => `${r.id}:${r.eventUs}:${r.expires}`).join(',') + `|${page.length}`;
    // The items are JSON text already (KazooListService): spliced into the envelope.
    void reply.header('content-type', 'application/json; charset=utf-8');
    return envelopeJson(
      { authToken, requestId: String(req.id) },
      `[${data.join(',')}]`,
      extra,
      fingerprint,
    );
  }

  @Get('accounts/:accountId/registrations/count')
  @ApiOperation({ summary: "Count the account's live registrations" })
  async count(@Req() req: FastifyRequest, @Param('accountId') accountId: string) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const count = await this.queries.countLive(accountId);
    return envelope({ authToken: principal.token, requestId: String(req.id) }, { count });
  }

  @Delete('accounts/:accountId/registrations')
  @ApiOperation({ summary: 'Flush every registration of the account (reg_flush to the proxies)' })
  async flushAll(@Req() req: FastifyRequest, @Param('accountId') accountId: string) {
    const principal = await this.auth.authenticate(req);
    const account = await this.auth.authorize(principal, accountId);
    await this.flush(() => this.flusher.flush({ account }), accountId);
    return envelope({ authToken: principal.token, requestId: String(req.id) }, 'ok');
  }

  @Delete('accounts/:accountId/registrations/:username')
  @ReservedParamValues('username', RESERVED_USERNAMES)
  @ApiOperation({
    summary:
      'Flush one SIP username and, as Kazoo does, send the phone a check-sync NOTIFY so it re-registers at once (check_sync=false: flush only)',
  })
  @ApiQuery({ name: 'check_sync', required: false, type: Boolean, description: 'default true' })
  async flushOne(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Param('username') username: string,
    @Query('check_sync') checkSyncParam?: string,
  ) {
    // …/registrations/count is not a username (as in Kazoo): DELETE on it is not allowed.
    if (RESERVED_USERNAMES.includes(username))
      throw ApiError.methodNotAllowed(req.method, allowedMethods(req.url) ?? []);
    const principal = await this.auth.authenticate(req);
    const account = await this.auth.authorize(principal, accountId);
    // Kazoo (crossbar_util:flush_registration) always sends check-sync; check_sync=false opts out.
    const checkSync =
      checkSyncParam === undefined
        ? true
        : Object.hasOwn(BOOLEAN_PARAM, checkSyncParam)
          ? BOOLEAN_PARAM[checkSyncParam]
          : undefined;
    if (checkSync === undefined)
      throw ApiError.invalidInput('check_sync', 'type', 'check_sync must be true or false');
    await this.flush(() => this.flusher.flush({ account, username, checkSync }), username);
    return envelope({ authToken: principal.token, requestId: String(req.id) }, 'ok');
  }

  @Get('registrations/count')
  @ApiOperation({ summary: 'Count every live registration of the system (super-admin only)' })
  async countAll(@Req() req: FastifyRequest) {
    const principal = await this.auth.authenticate(req);
    this.auth.requireSuperadmin(principal);
    const count = await this.queries.countLive();
    return envelope({ authToken: principal.token, requestId: String(req.id) }, { count });
  }

  private async flush(run: () => Promise<unknown>, cause: string): Promise<void> {
    try {
      await run();
    } catch (e) {
      // crossbar_util:response_bad_identifier/2 (cb_registrations:validate_sip_username/2):
      // message "bad identifier", data [Username].
      if (e instanceof FlushError && e.code === 'unknown_username')
        throw new KazooError(404, 'bad identifier', [cause]);
      if (e instanceof FlushError) throw ApiError.unavailable(e.message);
      throw e;
    }
  }
}

const BOOLEAN_PARAM: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
};

const LIST_OFFERS = [{ contentType: 'application/json' }, { contentType: 'text/csv' }];

/** Accept: text/csv, or crossbar's tunnelled `?accept=csv` (api_resource:to_json/3 → to_csv). */
function wantsCsv(req: FastifyRequest, query: Record<string, unknown>): boolean {
  if (query.accept === 'csv' || query.accept === 'text/csv') return true;
  return negotiate(req.headers.accept, LIST_OFFERS).contentType === 'text/csv';
}
