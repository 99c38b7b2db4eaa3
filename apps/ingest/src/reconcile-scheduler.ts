// When the ingest reconciles with the proxies by itself (docs/reconciliation.md): once at start
// (RECONCILE_ON_START: a restart is when events were most likely lost) and every
// RECONCILE_INTERVAL_S (0 = never). The use-case is libs/reconcile's, shared with the API and CLI.
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ReconcileRegistrationsService } from '@app/reconcile';
import { PeriodicTask } from './periodic-task';

@Injectable()
export class ReconcileScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReconcileScheduler.name);
  private task?: PeriodicTask;

  constructor(
    private readonly reconciler: ReconcileRegistrationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.RECONCILE_INTERVAL_S * 1000;
    if (!this.config.RECONCILE_ON_START && every === 0) return;
    this.task = new PeriodicTask(
      'reconciliation',
      async () => {
        await this.reconciler.run();
        return every || 2 ** 31 - 1;
      },
      (m) => this.logger.warn(m),
      { initialBackoffMs: 5000, maxBackoffMs: Math.max(every, 60_000) },
    );
    this.task.start(this.config.RECONCILE_ON_START ? 0 : every);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task?.stop();
  }
}
