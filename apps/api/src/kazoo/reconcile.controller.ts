// POST /v2/registrations/reconcile (super-admin): reconcile the table with the proxies now
// (docs/reconciliation.md) and answer what changed. Not a Kazoo route: ecallmgr reconciles by
// itself (reg_sync at start); this is the operator's button for the same thing. The use-case is
// libs/reconcile's (the ingest runs it at start and on a schedule), run here in the API process, so that it works
// whichever ingest instance is up.
import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ReconcileRegistrationsService } from '@app/reconcile';
import { AuthService } from '../auth/auth.service';
import { envelope } from './kazoo-envelope';

@ApiTags('kazoo')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2')
export class ReconcileController {
  constructor(
    private readonly auth: AuthService,
    private readonly reconciler: ReconcileRegistrationsService,
  ) {}

  @Post('registrations/reconcile')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Ask every Kamailio what it holds (reg_sync) and make the table agree: add missing ' +
      'bindings, end (reason "reconciled") those no proxy that answered holds (super-admin only)',
  })
  async reconcile(@Req() req: FastifyRequest) {
    const principal = await this.auth.authenticate(req);
    this.auth.requireSuperadmin(principal);
    const r = await this.reconciler.run();
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      {
        proxies: r.proxies,
        held: r.held,
        added: r.added,
        refreshed: r.refreshed,
        kept: r.kept,
        ended: r.ended,
        raced: r.raced,
        rejected: r.rejected,
        duration_ms: r.durationMs,
      },
    );
  }
}
