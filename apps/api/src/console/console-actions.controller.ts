// The console's finer actions (issue 16 point 3): flush one binding (one contact: the one-contact
// flush the sipXcom and hosted-PBX DELETEs use — a reg_flush naming Call-ID and Contact for
// Kamailio, `flush_inbound_reg <call-id>` for FreeSWITCH), and a check-sync NOTIFY to a user's
// phones without a flush (the one Kazoo's DELETE …/registrations/{username} sends). Both are
// scoped to exactly the account in the path: a binding of another account is a 404.
import { Controller, Delete, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConsoleQueries, heldBy } from '@app/persistence';
import { AuthService } from '../auth/auth.service';
import { envelope } from '../kazoo/kazoo-envelope';
import { ApiError } from '../common/api-error';
import { FlushError, FlushRegistrationsService } from '../flush/flush-registrations.service';

/** A binding id as the console lists it: a positive integer (at most 15 digits: exact as a JS number). */
const BINDING_ID = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, 'binding id must be a positive integer')
  .transform(Number);
/** A SIP username: not empty, no control characters, at most 128 characters. */
const USERNAME = z
  .string()
  .min(1)
  .max(128)
  .refine(
    (s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    'no control characters',
  );

@ApiTags('console')
@ApiHeader({ name: 'X-Auth-Token', description: 'token from PUT /v2/api_auth', required: true })
@Controller('v2/console/accounts/:accountId')
export class ConsoleActionsController {
  constructor(
    private readonly auth: AuthService,
    private readonly queries: ConsoleQueries,
    private readonly flusher: FlushRegistrationsService,
  ) {}

  @Delete('bindings/:bindingId')
  @ApiOperation({
    summary:
      "Flush one binding (one contact) of the account: Kamailio is sent a reg_flush naming the AOR, Call-ID and Contact, FreeSWITCH `sofia profile <p> flush_inbound_reg <call-id>`; only that binding ends (the user's other contacts stay). 404 unless it is a live binding of this very account. Answers what was published",
  })
  @ApiParam({ name: 'bindingId', description: 'the id the console list gives each item' })
  async flushBinding(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Param('bindingId') bindingIdParam: string,
  ) {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const parsed = BINDING_ID.safeParse(bindingIdParam);
    if (!parsed.success)
      throw ApiError.invalidInput('binding_id', 'type', parsed.error.issues[0].message);
    const binding = await this.queries.liveBinding(accountId, parsed.data);
    if (!binding) throw ApiError.notFound(`no live binding ${bindingIdParam}`, bindingIdParam);
    const result = await this.run(() =>
      this.flusher.flush({ ids: [binding.id], perContact: true }),
    );
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      {
        binding: {
          id: binding.id,
          username: binding.username,
          realm: binding.realm,
          contact: binding.contactUri,
          call_id: binding.callId,
          held_by: heldBy(binding.origin, binding.fsHostname, binding.fsProfile),
        },
        ended: result.ids,
        published: result.published ?? [],
      },
    );
  }

  @Post('users/:username/check_sync')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Send the user's phones Kazoo's check-sync NOTIFY (re-register and re-provision) without flushing anything; once per realm its live bindings registered in, else the account's realm. 404 when the account never had that user. Answers what was published",
  })
  async checkSync(
    @Req() req: FastifyRequest,
    @Param('accountId') accountId: string,
    @Param('username') usernameParam: string,
  ) {
    const principal = await this.auth.authenticate(req);
    const account = await this.auth.authorize(principal, accountId);
    const parsed = USERNAME.safeParse(usernameParam);
    if (!parsed.success)
      throw ApiError.invalidInput('username', 'type', parsed.error.issues[0].message);
    const username = parsed.data;
    const result = await this.run(() => this.flusher.checkSyncOnly(account, username), username);
    return envelope(
      { authToken: principal.token, requestId: String(req.id) },
      { username, published: result.published },
    );
  }

  private async run<T>(action: () => Promise<T>, cause = ''): Promise<T> {
    try {
      return await action();
    } catch (e) {
      if (e instanceof FlushError && e.code === 'unknown_username')
        throw ApiError.notFound(`no SIP user ${cause}`, cause);
      if (e instanceof FlushError) throw ApiError.unavailable(e.message);
      throw e;
    }
  }
}
