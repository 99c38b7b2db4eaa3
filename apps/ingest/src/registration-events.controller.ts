// Where proxy events arrive: one handler per queue, each a batch of raw deliveries. The
// transport (libs/messaging) owns acks and retries; IngestService does the work.
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { parseFreeswitchMessage, parseKazooMessage } from '@app/registrations';
import type { BatchContext, BatchVerdict, InboundMessage } from '@app/messaging';
import { IngestService } from './ingest.service';

export const KAZOO_EVENTS = 'kazoo.registrar';
export const FREESWITCH_EVENTS = 'freeswitch.sofia';

@Controller()
export class RegistrationEventsController {
  constructor(private readonly ingest: IngestService) {}

  /** Kamailio (Kazoo) `reg_success`, and `reg_flush` issued by other systems. */
  @MessagePattern(KAZOO_EVENTS)
  onKazooEvents(
    @Payload() batch: InboundMessage[],
    @Ctx() ctx: BatchContext,
  ): Promise<BatchVerdict> {
    return this.ingest.ingest(batch, parseKazooMessage, ctx);
  }

  /** FreeSWITCH `sofia::register`, `sofia::unregister`, `sofia::expire`. */
  @MessagePattern(FREESWITCH_EVENTS)
  onFreeswitchEvents(
    @Payload() batch: InboundMessage[],
    @Ctx() ctx: BatchContext,
  ): Promise<BatchVerdict> {
    return this.ingest.ingest(batch, parseFreeswitchMessage, ctx);
  }
}
