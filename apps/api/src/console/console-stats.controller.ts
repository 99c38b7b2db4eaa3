// Aggregates for the console's charts, computed in SQL (ConsoleStatsQueries): bindings live per
// minute, registrations and ends per minute by reason, and the live bindings' user agents. Each
// covers the account and its sub-accounts: the caller may read the account (authorize: it is the
// caller's own or a descendant, or the caller is a super-admin), hence every account under it.
import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConsoleStatsQueries, DialectQueries } from '@app/persistence';
import { AuthService } from '../auth/auth.service';
import { envelope } from '../kazoo/kazoo-envelope';
import { ApiError } from '../common/api-error';

export const WINDOW_MINUTES = { hour: 60, day: 1440, week: 10080 } as const;
const windowParam = z.enum(['hour', 'day', 'week']).default('hour');
const limitParam = z.coerce.number().int().min(1).max(100).default(20);

function parse<T>(schema: z.ZodType<T>, name: string, value: unknown, rule: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw ApiError.invalidInput(name, rule, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

@ApiTags('console')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2/accounts/:accountId/registrations/stats')
export class ConsoleStatsController {
  constructor(
    private readonly auth: AuthService,
    private readonly stats: ConsoleStatsQueries,
    private readonly accounts: DialectQueries,
  ) {}

  /** The account, if the caller may read it, and every account under it. */
  private async tree(req: FastifyRequest, accountId: string) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    return { principal, accountIds: await this.accounts.subtree(accountId) };
  }

  @Get('live')
  @ApiOperation({
    summary:
      'Bindings of the account and its sub-accounts live at each minute boundary of the last hour, day or week: data is [{t (Unix s), live}], oldest first, the last the current minute',
  })
  @ApiQuery({ name: 'window', required: false, enum: Object.keys(WINDOW_MINUTES) })
  async live(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Query('window') w?: string,
  ) {
    const { principal, accountIds } = await this.tree(req, accountId);
    const window = parse(windowParam, 'window', w, 'enum');
    const data = await this.stats.liveSeries(accountIds, WINDOW_MINUTES[window]);
    return envelope({ authToken: principal.token, requestId: String(req.id) }, data, { window });
  }

  @Get('activity')
  @ApiOperation({
    summary:
      'Per minute of the last hour, day or week (only minutes with any), over the account and its sub-accounts: bindings registered, and ended by reason — data is [{t, registered, unregistered, expired, flushed, replaced}]',
  })
  @ApiQuery({ name: 'window', required: false, enum: Object.keys(WINDOW_MINUTES) })
  async activity(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Query('window') w?: string,
  ) {
    const { principal, accountIds } = await this.tree(req, accountId);
    const window = parse(windowParam, 'window', w, 'enum');
    const data = await this.stats.activity(accountIds, WINDOW_MINUTES[window]);
    return envelope({ authToken: principal.token, requestId: String(req.id) }, data, { window });
  }

  @Get('user-agents')
  @ApiOperation({
    summary:
      "The live bindings' user agents (the account and its sub-accounts), most common first: data is {total, user_agents: [{user_agent, count}]}",
  })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 20' })
  async userAgents(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Query('limit') l?: string,
  ) {
    const { principal, accountIds } = await this.tree(req, accountId);
    const limit = parse(limitParam, 'limit', l, 'range');
    const { total, agents } = await this.stats.userAgents(accountIds, limit);
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      { total, user_agents: agents.map((a) => ({ user_agent: a.userAgent, count: a.count })) },
    );
  }
}
