// GET /v2/accounts/{ACCOUNT_ID}/registrations/history: every ended binding segment of the
// account, newest first, filtered and paged like the registrations list, in Kazoo's envelope.
// Kept for HISTORY_RETENTION_DAYS (pruned by the ingest app's sweeper).
import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DialectQueries } from '@app/persistence';
import { AuthService } from '../auth/auth.service';
import { envelope } from '../kazoo/kazoo-envelope';
import { encodeHistoryStartKey, END_REASONS, parseHistoryQuery } from './history-query';
import { toHistoryItem } from './history-item.presenter';

@ApiTags('kazoo')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2')
export class RegistrationHistoryController {
  constructor(
    private readonly auth: AuthService,
    private readonly queries: DialectQueries,
  ) {}

  @Get('accounts/:accountId/registrations/history')
  @ApiOperation({ summary: "The account's ended registrations: start, refreshes, end and reason" })
  @ApiParam({ name: 'accountId', description: '32 hex digits' })
  @ApiQuery({ name: 'username', required: false })
  @ApiQuery({ name: 'contact_ip', required: false })
  @ApiQuery({ name: 'reason', required: false, enum: END_REASONS })
  @ApiQuery({
    name: 'created_from',
    required: false,
    description: 'ended at or after (Gregorian s)',
  })
  @ApiQuery({
    name: 'created_to',
    required: false,
    description: 'ended at or before (Gregorian s)',
  })
  @ApiQuery({ name: 'page_size', required: false, description: '1–1000, default 50' })
  @ApiQuery({
    name: 'start_key',
    required: false,
    description: 'next_start_key of the previous page',
  })
  async history(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const q = parseHistoryQuery(accountId, query);
    const rows = await this.queries.history({ ...q, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const extra: Record<string, unknown> = { page_size: page.length };
    if (more) extra.next_start_key = encodeHistoryStartKey(page[page.length - 1]);
    if (q.after) extra.start_key = query.start_key;
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      page.map(toHistoryItem),
      extra,
    );
  }
}
