// The reconciliation use-case (docs/reconciliation.md): ask every Kamailio what it holds
// (reg_sync, libs/messaging reg-sync.client.ts), then make the table agree in one transaction
// (RegistrationStore.reconcile, planned by libs/registrations reconcile-plan.ts). Run at ingest
// start and every RECONCILE_INTERVAL_S by the ingest (apps/ingest/src/reconcile-scheduler.ts),
// and on demand by the API's POST /v2/registrations/reconcile and `npm run cli --
// registrations:reconcile`: a lib of its own, so that no app imports another. Calls that arrive
// while one runs share its result (one republish, not two).
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { requestProxySnapshot } from '@app/messaging';
import { ReconcileResult, RegistrationStore } from '@app/persistence';

export interface ReconcileReport extends ReconcileResult {
  /** Proxies that answered in full (only their bindings could end). */
  proxies: string[];
  /** Contacts the proxies said they hold. */
  held: number;
  /** Answers that were not a valid reg_success. */
  rejected: number;
  /** From publishing reg_sync to the committed table. */
  durationMs: number;
}

@Injectable()
export class ReconcileRegistrationsService {
  private readonly logger = new Logger(ReconcileRegistrationsService.name);
  private running?: Promise<ReconcileReport>;

  constructor(
    private readonly store: RegistrationStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One reconciliation (or the one already running). */
  run(): Promise<ReconcileReport> {
    this.running ??= this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  private async once(): Promise<ReconcileReport> {
    const t0 = Date.now();
    const snapshot = await requestProxySnapshot({
      amqpUrl: this.config.AMQP_URL,
      queuePrefix: this.config.QUEUE_PREFIX,
      durable: this.config.KAZOO_EXCHANGE_DURABLE,
      settleMs: this.config.RECONCILE_SETTLE_MS,
      firstAnswerMs: this.config.RECONCILE_FIRST_ANSWER_MS,
      timeoutMs: this.config.RECONCILE_TIMEOUT_MS,
      expectedNodes: await this.store.kazooNodes(),
    });
    for (const r of snapshot.rejected.slice(0, 5))
      this.logger.warn(`reg_sync answer not applied: ${r}`);
    const result = await this.store.reconcile(snapshot);
    const report: ReconcileReport = {
      ...result,
      proxies: snapshot.complete,
      held: snapshot.held.length,
      rejected: snapshot.rejected.length,
      durationMs: Date.now() - t0,
    };
    this.logger.log(
      `reconciled with ${report.proxies.length} proxies (${report.held} contacts held) in ` +
        `${report.durationMs} ms: ${report.added} added, ${report.refreshed} refreshed, ` +
        `${report.ended} ended, ${report.kept} kept, ${report.raced} left to newer events`,
    );
    return report;
  }
}
