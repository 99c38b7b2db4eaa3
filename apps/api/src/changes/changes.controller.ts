// GET /v2/accounts/{ACCOUNT_ID}/registrations/changes — the change feed as Server-Sent Events.
// Without a position: a snapshot of the live bindings (events without id), then
// `snapshot-complete` carrying the seq the snapshot corresponds to, then every change as it
// happens, each with its seq as `id`. With Last-Event-ID or ?since=<seq>: no snapshot, exactly
// the changes after that position. The token may come as X-Auth-Token or ?auth_token= (a
// browser's EventSource cannot send headers).
import type { OutgoingHttpHeaders } from 'node:http';
import { Controller, Get, Headers, Inject, Logger, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ChangeQueries } from '@app/persistence';
import { CHANGE_EVENT_SCHEMA } from '@app/messaging';
import { AuthService } from '../auth/auth.service';
import { KazooError } from '../kazoo/kazoo-envelope';
import { rowToKazooItem } from '../kazoo/kazoo-registration.presenter';
import { ApiError } from '../common/api-error';

const POLL_MS = 200;

/**
 * The position to resume after: Last-Event-ID, else ?since=; a seq is a non-negative integer
 * that Number holds exactly (seq is a bigint column; no feed reaches 2^53).
 */
export function positionOf(lastEventId?: string, since?: string): number | undefined {
  const name = lastEventId !== undefined ? 'Last-Event-ID' : 'since';
  const text = lastEventId ?? since;
  if (text === undefined) return undefined;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n))
    throw ApiError.invalidInput(
      name === 'since' ? 'since' : 'last-event-id',
      'type',
      `${name} must be a seq (an integer from 0 to ${Number.MAX_SAFE_INTEGER})`,
    );
  return n;
}

@ApiTags('change feed')
@Controller('v2/accounts/:accountId/registrations/changes')
export class ChangesController {
  private readonly logger = new Logger('ChangeFeed');

  constructor(
    private readonly auth: AuthService,
    private readonly changes: ChangeQueries,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Registration changes as Server-Sent Events (snapshot, then live; resumable by Last-Event-ID)',
  })
  @ApiQuery({
    name: 'since',
    required: false,
    description: 'resume after this seq (like Last-Event-ID)',
  })
  @ApiQuery({
    name: 'auth_token',
    required: false,
    description: 'the token, for EventSource clients',
  })
  async stream(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('accountId') accountId: string,
    @Headers('last-event-id') lastEventId?: string,
    @Query('since') since?: string,
  ): Promise<void> {
    const principal = await this.auth.authenticate(req);
    await this.auth.authorize(principal, accountId);
    const position = positionOf(lastEventId, since);
    if (position !== undefined) {
      const horizon = await this.changes.horizon();
      if (position < horizon) {
        throw new KazooError(410, 'position_expired', {
          message: `changes up to seq ${horizon} were dropped by retention; reconnect without a position to get a fresh snapshot`,
        });
      }
    }

    // Hijacked: Fastify sends nothing more, so the headers set so far (CORS for a browser's
    // EventSource on another origin, x-request-id) go out with ours.
    const early = reply.getHeaders() as OutgoingHttpHeaders;
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      ...early,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(req.id),
    });
    // HEAD (Fastify routes it here, to the GET handler): the headers a GET would get, no stream.
    if (req.method === 'HEAD') {
      out.end();
      return;
    }
    let open = true;
    req.raw.on('close', () => (open = false));
    const write = (chunk: string) => open && out.write(chunk);
    const heartbeat = setInterval(
      () => write(`: heartbeat ${new Date().toISOString()}\n\n`),
      this.config.SSE_HEARTBEAT_MS,
    );
    try {
      write(`retry: 2000\n\n`);
      let cursor: number;
      if (position === undefined) {
        const snap = await this.changes.snapshot(accountId);
        for (const row of snap.rows)
          write(`event: snapshot\ndata: ${JSON.stringify(rowToKazooItem(row))}\n\n`);
        write(
          `id: ${snap.seq}\nevent: snapshot-complete\ndata: ${JSON.stringify({ seq: snap.seq, count: snap.rows.length })}\n\n`,
        );
        cursor = snap.seq;
      } else cursor = position;
      while (open) {
        const rows = await this.changes.after(accountId, cursor);
        for (const r of rows) {
          const seq = Number(r.seq);
          const body = {
            seq,
            change: r.change,
            occurred_at: new Date(r.occurred_at).toISOString(),
            account_id: r.account_id,
            registration: r.registration,
          };
          write(`id: ${seq}\nevent: ${r.change}\ndata: ${JSON.stringify(body)}\n\n`);
          cursor = seq;
        }
        if (rows.length < 500) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch (e) {
      // The cause is logged; the client only learns to reconnect from where it is.
      this.logger.error(
        `change feed ${String(req.id)} failed: ${(e as Error)?.stack ?? String(e)}`,
      );
      write(
        `event: error\ndata: ${JSON.stringify({ message: 'the change feed failed; reconnect with Last-Event-ID' })}\n\n`,
      );
    } finally {
      clearInterval(heartbeat);
      out.end();
    }
  }
}

/** The event schema, public: GET /v2/registrations/changes/schema. */
@ApiTags('change feed')
@Controller('v2/registrations/changes/schema')
export class ChangeSchemaController {
  @Get()
  @ApiOperation({ summary: 'JSON Schema of a change event (bus and SSE)' })
  schema() {
    return CHANGE_EVENT_SCHEMA;
  }
}
