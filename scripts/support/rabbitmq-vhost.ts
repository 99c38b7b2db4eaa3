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

/** Deletes the vhost of `amqpUrl` (and everything in it); a missing one is fine. */
export async function deleteVhost(amqpUrl: string): Promise<void> {
  const { vhost, api, auth } = parts(amqpUrl);
  if (vhost === '/') return;
  const res = await managementApi(`${api}/vhosts/${encodeURIComponent(vhost)}`, auth, 'DELETE');
  if (res && (res.ok || res.status === 404)) return;
  if ((await listVhosts(amqpUrl)).includes(vhost))
    execFileSync('rabbitmqctl', ['delete_vhost', vhost], { stdio: 'ignore' });
}

/** Every vhost of the broker of `amqpUrl`. */
export async function listVhosts(amqpUrl: string): Promise<string[]> {
  const { api, auth } = parts(amqpUrl);
  const res = await managementApi(`${api}/vhosts?columns=name`, auth, 'GET');
  if (res?.ok) return ((await res.json()) as { name: string }[]).map((v) => v.name);
  return execFileSync('rabbitmqctl', ['list_vhosts', '--silent'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'name');
}

function parts(amqpUrl: string): { vhost: string; api: string; auth: string } {
  const u = new URL(amqpUrl);
  return {
    vhost: decodeURIComponent(u.pathname.replace(/^\//, '')) || '/',
    api: `http://${u.hostname}:15672/api`,
    auth: Buffer.from(
      `${decodeURIComponent(u.username || 'guest')}:${decodeURIComponent(u.password || 'guest')}`,
    ).toString('base64'),
  };
}

/** The management API's answer, or undefined when it is not there. */
async function managementApi(
  url: string,
  auth: string,
  method: string,
): Promise<Response | undefined> {
  try {
    return await fetch(url, {
      method,
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(2000),
    });
  } catch {
    return undefined;
  }
}
