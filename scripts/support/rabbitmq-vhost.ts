// Makes sure a RabbitMQ vhost exists (for the tests and the benchmarks, which each use their
// own): through the management API when it is there (Docker image), else with rabbitmqctl.
import { execFileSync } from 'node:child_process';

export async function ensureVhost(amqpUrl: string): Promise<void> {
  const u = new URL(amqpUrl);
  const vhost = decodeURIComponent(u.pathname.replace(/^\//, '')) || '/';
  if (vhost === '/') return;
  const auth = Buffer.from(
    `${decodeURIComponent(u.username || 'guest')}:${decodeURIComponent(u.password || 'guest')}`,
  ).toString('base64');
  const api = `http://${u.hostname}:15672/api`;
  try {
    const res = await fetch(`${api}/vhosts/${encodeURIComponent(vhost)}`, {
      method: 'PUT',
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(2000),
    });
    if (res.ok) {
      await fetch(
        `${api}/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(u.username || 'guest')}`,
        {
          method: 'PUT',
          headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
          body: JSON.stringify({ configure: '.*', write: '.*', read: '.*' }),
        },
      );
      return;
    }
  } catch {
    // no management API: fall back to rabbitmqctl
  }
  const list = execFileSync('rabbitmqctl', ['list_vhosts', '--silent'], { encoding: 'utf8' });
  if (
    !list
      .split('\n')
      .map((l) => l.trim())
      .includes(vhost)
  ) {
    execFileSync('rabbitmqctl', ['add_vhost', vhost], { stdio: 'ignore' });
  }
  execFileSync(
    'rabbitmqctl',
    ['set_permissions', '-p', vhost, u.username || 'guest', '.*', '.*', '.*'],
    { stdio: 'ignore' },
  );
}
