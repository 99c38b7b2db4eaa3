// A TCP proxy in front of Postgres (or RabbitMQ) that a test can take down and bring back: to
// the service this is exactly a server that went away (connections reset, new ones refused).
// `hold()` stops forwarding what the service sends (its acks, for RabbitMQ) while it still
// receives: the moment between a commit and its ack, held open.
import * as net from 'node:net';
import { closeAtFileEnd } from './cleanup';

export class TcpProxy {
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  private pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  port = 0;

  /**
   * `tap`, when given, is called once per connection and returns what is fed every chunk the
   * server sends on it (observed, not altered): e.g. an AmqpDeliveryTap's parser.
   */
  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private readonly tap?: () => (chunk: Buffer) => void,
  ) {}

  /** A proxy in front of the server `url` names (postgres:// or amqp://, their default ports). */
  static inFrontOf(url: string, tap?: () => (chunk: Buffer) => void): TcpProxy {
    const u = new URL(url);
    const dflt = u.protocol.startsWith('amqp') ? 5672 : 5432;
    return new TcpProxy(u.hostname, Number(u.port || dflt), tap);
  }

  /** `url` with its host and port this proxy's (once it is up): the service's way in. */
  reach(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async up(port = this.port): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const pair = { client, upstream };
      this.pairs.add(pair);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
        this.pairs.delete(pair);
      };
      if (this.tap) upstream.on('data', this.tap());
      client.pipe(upstream).pipe(client);
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    const server = this.server;
    closeAtFileEnd(
      'tcp proxy',
      () => this.down(),
      () => this.server === server,
    );
    return this.port;
  }

  /**
   * From now on, nothing the open connections' clients send reaches the server (what the server
   * sends still reaches them): until the connection is closed, which then reaches the server.
   */
  hold(): void {
    // Dropped rather than paused: a paused socket would not see the client go away either.
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      client.on('data', () => undefined).resume(); // (unpipe left it paused)
    }
  }

  /** Stops listening and resets every open connection. */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }
}
