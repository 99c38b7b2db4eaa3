// The hosted-PBX "internal number registration" resource (api-dialects.md C) under
// /api/ver1.0: status of many extensions or one, deleting one extension's registrations, and
// deleting one registration (the vendor's later DELETE …/registration/{registration_id}).
// Authentication: `Authorization: Bearer <token>` (tokens from PUT /v2/api_auth).
import {
  All,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Query,
  Req,
  UseFilters,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service';
import { AccountScopeService } from '../common/account-scope.service';
import { RouteTable } from '../common/route-table';
import { DialectExceptionFilter } from '../sipxcom/dialect-exception.filter';
import { extensionIdOf, extensionIdsOf, pageOf, registrationIdOf } from './extension-query';
import { ExtensionRegistrationsService } from './extension-registrations.service';

// The documented paths end with '/': the app's router ignores trailing slashes.
const LIST = 'registration';
const ONE = ':extensionId/registration';
const ONE_REGISTRATION = ':extensionId/registration/:registrationId';

@ApiTags('hosted-pbx')
@ApiBearerAuth()
@UseFilters(new DialectExceptionFilter('Bearer'))
@Controller('api/ver1.0/extension')
export class ExtensionRegistrationsController {
  constructor(
    private readonly auth: AuthService,
    private readonly scopes: AccountScopeService,
    private readonly extensions: ExtensionRegistrationsService,
  ) {}

  @Get(LIST)
  @ApiOperation({ summary: 'Registration status of the given extensions, or of all (paged)' })
  @ApiQuery({ name: 'extension_id', required: false, isArray: true, type: Number })
  @ApiQuery({ name: 'page', required: false, description: 'from 1; only without extension_id' })
  @ApiQuery({ name: 'per_page', required: false, description: '1–1000, default 100' })
  async list(@Req() req: FastifyRequest, @Query() query: Record<string, unknown>) {
    const principal = await this.auth.authenticateBearer(req);
    const scope = await this.scopes.scopeOf(principal);
    const ids = extensionIdsOf(query.extension_id);
    if (ids === undefined) {
      const { offset, limit } = pageOf(query);
      return this.extensions.page(scope, offset, limit);
    }
    await this.extensions.authorize(scope, ids);
    return this.extensions.statusOf(scope, ids);
  }

  @Get(ONE)
  @ApiOperation({ summary: 'Registration status of one extension' })
  async one(@Req() req: FastifyRequest, @Param('extensionId') extensionId: string) {
    const principal = await this.auth.authenticateBearer(req);
    const id = extensionIdOf(extensionId);
    const scope = await this.scopes.scopeOf(principal);
    await this.extensions.authorize(scope, [id]);
    const [status] = await this.extensions.statusOf(scope, [id]);
    return status;
  }

  @Delete(ONE)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete every registration of the extension (flushes the proxies)' })
  async stop(@Req() req: FastifyRequest, @Param('extensionId') extensionId: string) {
    const principal = await this.auth.authenticateBearer(req);
    const id = extensionIdOf(extensionId);
    const scope = await this.scopes.scopeOf(principal);
    await this.extensions.authorize(scope, [id]);
    await this.extensions.stop(scope, id);
  }

  @Delete(ONE_REGISTRATION)
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete one registration of the extension (only that phone is flushed)',
  })
  async stopOne(
    @Req() req: FastifyRequest,
    @Param('extensionId') extensionId: string,
    @Param('registrationId') registrationId: string,
  ) {
    const principal = await this.auth.authenticateBearer(req);
    const id = extensionIdOf(extensionId);
    const rid = registrationIdOf(registrationId);
    const scope = await this.scopes.scopeOf(principal);
    await this.extensions.authorize(scope, [id]);
    await this.extensions.stopOne(scope, id, rid);
  }

  /** Any other path or method: 405 with Allow on a known path (the route table), else 404. */
  @All('*')
  unknownPath(@Req() req: FastifyRequest): never {
    throw routes().refusal(req.method, req.url);
  }
}

let table: RouteTable | undefined;
/** The resource's 405 table, from this controller's routes (built once, on first use). */
function routes(): RouteTable {
  return (table ??= RouteTable.of([ExtensionRegistrationsController], { head: true }));
}
