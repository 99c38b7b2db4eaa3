// A TCP proxy in front of Postgres that a test can take down and bring back: to the service
// this is exactly a database that went away (connections reset, new ones refused).
import * as net from 'node:net';
import { closeAtFileEnd } from './cleanup';

export class TcpProxy {
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(port = this.port): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
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
