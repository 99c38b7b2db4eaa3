// Ends bindings whose time ran out (last refresh + Expires): Kamailio publishes nothing on
// expiry. Reads already hide expired bindings; the sweep records them in history within a few
// seconds. An advisory lock lets only one instance sweep at a time. Also prunes tombstones and
// old history, and keeps the live-bindings gauge current.
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { RegistrationStore } from '@app/persistence';
import { MetricsService } from '@app/observability';
import { PeriodicTask } from './periodic-task';

const PRUNE_EVERY_MS = 10 * 60_000;
const GAUGE_EVERY_MS = 15_000;

@Injectable()
export class ExpirySweeperService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ExpirySweeperService.name);
  private readonly task: PeriodicTask;
  private lastPrune = 0;
  private lastGauge = 0;
  private stopping = false;

  constructor(
    private readonly store: RegistrationStore,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.task = new PeriodicTask(
      'expiry sweep',
      async () => {
        await this.sweep();
        return this.config.SWEEP_INTERVAL_MS;
      },
      (m) => this.logger.warn(m),
      { initialBackoffMs: this.config.SWEEP_INTERVAL_MS, maxBackoffMs: 30_000 },
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  /** One pass: expire what is due (in chunks), and now and then prune and count. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const ended = await this.store.expireDue(5000);
      if (!ended) break; // another instance holds the sweep lock
      total += ended.length;
      if (ended.length < 5000 || this.stopping) break;
    }
    if (total) this.metrics.ended.inc({ reason: 'expired' }, total);
    const now = Date.now();
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      const pruned = await this.store.prune(
        this.config.TOMBSTONE_RETENTION_HOURS,
        this.config.HISTORY_RETENTION_DAYS,
      );
      if (pruned.tombstones || pruned.history)
        this.logger.log(`pruned ${pruned.tombstones} tombstones, ${pruned.history} history rows`);
      const changes = await this.store.pruneChanges(this.config.CHANGE_RETENTION_DAYS);
      if (changes) this.logger.log(`pruned ${changes} change-feed rows past retention`);
    }
    if (now - this.lastGauge > GAUGE_EVERY_MS) {
      this.lastGauge = now;
      const live = await this.store.countLive();
      this.metrics.liveBindings.set({ assigned: 'true' }, live.assigned);
      this.metrics.liveBindings.set({ assigned: 'false' }, live.unassigned);
    }
    return total;
  }
}
