// sipXcom 14.10's registrations REST resource (api-dialects.md B) under /sipxconfig/api: list
// and stop registrations by user, MAC, IP, Call-ID or server; JSON, or XML on request.
// Authentication: a dialect user with HTTP Digest or Basic, HTTP Basic with an API key as
// password, or X-Auth-Token (auth/dialect-users.service.ts).
import {
  All,
  Controller,
  Inject,
  Delete,
  Get,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DialectUsersAuthService } from '../auth/dialect-users.service';
import { AccountScopeService } from '../common/account-scope.service';
import { negotiate } from '../http/content-negotiation';
import { Refusal, RouteTable } from '../common/route-table';
import { DialectExceptionFilter } from './dialect-exception.filter';
import { SipxcomRegistrationsService } from './sipxcom-registrations.service';
import {
  pageOf,
  parseLocations,
  selectCallId,
  selectIp,
  selectSerialNo,
  selectServer,
  selectUser,
  SipxcomSelector,
} from './sipxcom-selector';
import {
  toSipxcomJson,
  toSipxcomRegistration,
  toSipxcomXml,
} from './sipxcom-registration.presenter';
import type { DialectRow } from '@app/persistence';
import { APP_CONFIG, AppConfig } from '@app/config';

/** On DELETEs that flush single contacts: what a Kamailio that ignores our extension does. */
const ONE_CONTACT_WARNING =
  '299 - "reg_flush names the contact (Call-ID, Contact): a Kamailio whose reg_flush route ignores them flushes the whole AOR"';

@ApiTags('sipxcom')
@ApiHeader({
  name: 'Authorization',
  description: 'Digest or Basic as a user (cli users:create), or Basic with an API key as password',
  required: false,
})
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: false })
@UseFilters(new DialectExceptionFilter('Basic realm="sipxconfig"'))
@Controller('sipxconfig/api/registrations')
export class SipxcomRegistrationsController {
  private readonly locations: Map<number, string>;

  constructor(
    private readonly auth: DialectUsersAuthService,
    private readonly scopes: AccountScopeService,
    private readonly registrations: SipxcomRegistrationsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.locations = parseLocations(config.SIPXCOM_LOCATIONS);
  }

  @Get()
  @ApiOperation({ summary: 'Every live registration in scope (Accept: application/xml for XML)' })
  @ApiQuery({ name: 'start', required: false, description: 'first row, 0-based (with limit)' })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'rows at most (with start; newest expiry first; 0: all)',
  })
  all(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
  ) {
    return this.list(req, reply, q, () => ({ kind: 'all' }));
  }

  @Get('user/:userId')
  @ApiOperation({ summary: "A user's registrations: user@realm, user name, or extension id" })
  byUser(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
    @Param('userId') userId: string,
  ) {
    return this.list(req, reply, q, () => selectUser(userId));
  }

  @Get('serialNo/:serialId')
  @ApiOperation({ summary: "A phone's registrations by MAC (any case, with or without : or -)" })
  bySerialNo(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
    @Param('serialId') serialId: string,
  ) {
    return this.list(req, reply, q, () => selectSerialNo(serialId));
  }

  @Get('ip/:ip')
  @ApiOperation({ summary: "Registrations whose phone's contact or source address is this IP" })
  byIp(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
    @Param('ip') ip: string,
  ) {
    return this.list(req, reply, q, () => selectIp(ip));
  }

  @Get(['callId/:callId', 'callid/:callId'])
  @ApiOperation({ summary: 'Registrations by Call-ID' })
  byCallId(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
    @Param('callId') callId: string,
  ) {
    return this.list(req, reply, q, () => selectCallId(callId));
  }

  @Get('server/:serverId')
  @ApiOperation({ summary: 'Registrations held by a proxy: its address, host name or node name' })
  byServer(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query() q: Record<string, unknown>,
    @Param('serverId') serverId: string,
  ) {
    return this.list(req, reply, q, () => selectServer(serverId, this.locations));
  }

  @Delete('user/:userId')
  @ApiOperation({ summary: "Stop a user's registrations" })
  stopUser(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('userId') userId: string,
  ) {
    return this.stop(req, reply, () => selectUser(userId));
  }

  @Delete('serialNo/:serialId')
  @ApiOperation({ summary: "Stop a phone's registrations by MAC" })
  stopSerialNo(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('serialId') serialId: string,
  ) {
    return this.stop(req, reply, () => selectSerialNo(serialId));
  }

  @Delete('ip/:ip')
  @ApiOperation({ summary: 'Stop the registrations of a phone address' })
  stopIp(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('ip') ip: string,
  ) {
    return this.stop(req, reply, () => selectIp(ip));
  }

  @Delete(['callId/:callId', 'callid/:callId'])
  @ApiOperation({ summary: 'Stop the registrations of a Call-ID' })
  stopCallId(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('callId') callId: string,
  ) {
    return this.stop(req, reply, () => selectCallId(callId));
  }

  @Delete('server/:serverId')
  @ApiOperation({ summary: 'Stop the registrations held by a proxy' })
  stopServer(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('serverId') serverId: string,
  ) {
    return this.stop(req, reply, () => selectServer(serverId, this.locations));
  }

  // The collection's own path: the catch-all below does not reach it, and Nest's 404 would be
  // answered in Kazoo's envelope. Decorators set one method each: one handler per method.
  @Put()
  @Refusal()
  putList(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }

  @Post()
  @Refusal()
  postList(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }

  @Patch()
  @Refusal()
  patchList(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }

  @Delete()
  @Refusal()
  deleteList(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }

  /** Any other path or method: 405 with Allow on a known path (the route table), else 404. */
  @All('*')
  unknownPath(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }

  private async list(
    req: FastifyRequest,
    reply: FastifyReply,
    query: Record<string, unknown>,
    selector: () => SipxcomSelector,
  ) {
    const principal = await this.auth.authenticate(req);
    const page = pageOf(query);
    const rows = await this.registrations.list(
      await this.scopes.scopeOf(principal),
      selector(),
      page,
    );
    return this.represent(req, reply, rows);
  }

  private async stop(
    req: FastifyRequest,
    reply: FastifyReply,
    selector: () => SipxcomSelector,
  ): Promise<void> {
    const principal = await this.auth.authenticate(req);
    const selected = selector();
    const rows = await this.registrations.stop(await this.scopes.scopeOf(principal), selected);
    if (selected.kind !== 'user') void reply.header('warning', ONE_CONTACT_WARNING);
    // sipXconfig answers Response.ok().build(): 200 and no body (RegistrationApiImpl.drop*).
    void reply.header('x-registrations-stopped', String(rows.length));
  }

  private represent(req: FastifyRequest, reply: FastifyReply, rows: DialectRow[]) {
    const nowS = Date.now() / 1000;
    const items = rows.map((r) => toSipxcomRegistration(r, nowS));
    const representation = negotiate(req.headers.accept);
    void reply.header('vary', 'Accept');
    if (representation.format === 'json') return toSipxcomJson(items);
    void reply.header('content-type', `${representation.contentType}; charset=utf-8`);
    return toSipxcomXml(items);
  }
}

let table: RouteTable | undefined;
/** The resource's 405 table, from this controller's routes (built once, on first use). */
function routes(): RouteTable {
  return (table ??= RouteTable.of([SipxcomRegistrationsController], { head: true }));
}
