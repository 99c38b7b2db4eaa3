// Publishes commands to the proxies with publisher confirms; one connection for the API app.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ConfirmPublisher, OutboundCommand, topology } from '@app/messaging';

@Injectable()
export class CommandPublisher implements OnModuleDestroy {
  private readonly logger = new Logger(CommandPublisher.name);
  private readonly publisher: ConfirmPublisher;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const t = topology({
      kazooExchangeDurable: config.KAZOO_EXCHANGE_DURABLE,
      queuePrefix: config.QUEUE_PREFIX,
    });
    this.publisher = new ConfirmPublisher(
      config.AMQP_URL,
      [t.registrar, t.tapCommands, t.switchExchange],
      { warn: (m) => this.logger.warn(m) },
      'registrations-api',
    );
  }

  /** Resolves once the broker confirmed every command; rejects if any was not taken. */
  async publishAll(commands: OutboundCommand[]): Promise<void> {
    await Promise.all(
      commands.map((c) =>
        this.publisher.publish(c.exchange, c.routingKey, c.body, {
          contentType: c.contentType,
          persistent: true,
        }),
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.publisher.close();
  }
}
