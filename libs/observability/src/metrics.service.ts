// Prometheus metrics for both apps, each app with its own registry.
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly events = new Counter({
    name: 'registrations_events_total',
    help: 'Proxy events committed, by kind (register, refresh, unregister, expire, flush) and origin (kazoo, freeswitch)',
    labelNames: ['kind', 'origin'],
    registers: [this.registry],
  });
  readonly ignoredEvents = new Counter({
    name: 'registrations_ignored_events_total',
    help: 'Events that changed nothing: stale (older than the stored binding) or duplicate (redelivered)',
    labelNames: ['why'],
    registers: [this.registry],
  });
  readonly unassignedEvents = new Counter({
    name: 'registrations_unassigned_events_total',
    help: 'Events whose realm belongs to no known account (kept, unassigned)',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'registrations_batch_size',
    help: 'Messages per committed batch',
    labelNames: ['queue'],
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'registrations_commit_seconds',
    help: 'Time to write and commit one batch',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchStepSeconds = new Histogram({
    name: 'registrations_batch_step_seconds',
    help: 'Time of each step of writing a batch: read (the touched AORs), plan (in JS), write (and commit)',
    labelNames: ['step'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly batchRetries = new Counter({
    name: 'registrations_batch_retries_total',
    help: 'Batches not committed for a transient reason (database unavailable), to be retried whole',
    labelNames: ['queue'],
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'registrations_dead_lettered_total',
    help: 'Messages sent to the dead-letter queue, by reason code',
    labelNames: ['queue', 'reason'],
    registers: [this.registry],
  });
  readonly liveBindings = new Gauge({
    name: 'registrations_live_bindings',
    help: 'Live bindings, by whether their realm belongs to an account',
    labelNames: ['assigned'],
    registers: [this.registry],
  });
  readonly ended = new Counter({
    name: 'registrations_ended_total',
    help: 'Bindings ended, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly brokerUp = new Gauge({
    name: 'registrations_broker_connected',
    help: '1 while connected to RabbitMQ',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
