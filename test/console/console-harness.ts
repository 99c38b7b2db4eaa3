// What the console's browser tests need: the console built from web/ (fresh, into a directory
// of their own), Debian's Chromium driven by playwright-core, and Kamailio reg_success
// messages (the shape of the real capture, inline so that the tests read nothing outside the
// repository).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { keys } from '@app/messaging';
import type { Outgoing } from '../support/amqp';

export const REPO = resolve(__dirname, '../..');

/** Builds web/ into .work/<name> (Vite, a few seconds) and returns the directory. */
export function buildConsole(name = 'console-e2e'): string {
  const outDir = join(REPO, '.work', name);
  mkdirSync(join(REPO, '.work'), { recursive: true });
  execFileSync(
    process.execPath,
    [join(REPO, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'],
    {
      cwd: REPO,
      env: { ...process.env, CONSOLE_OUT_DIR: outDir },
      stdio: 'pipe',
      timeout: 180_000,
    },
  );
  if (!existsSync(join(outDir, 'index.html')))
    throw new Error(`the console build wrote no ${outDir}/index.html`);
  return outDir;
}

export { launchChromium } from '../../scripts/support/chromium';

export interface PhoneOpts {
  realm: string;
  username: string;
  accountId: string;
  contact?: string;
  userAgent?: string;
  sourceIp?: string;
  expires?: number;
  /** Event-Timestamp (Unix seconds); a second ago when omitted. */
  ts?: number;
  callId?: string;
}

/** A Kamailio reg_success (kazoo module, `registrar` exchange) as the real capture has it. */
export function kamailioRegister(o: PhoneOpts): Outgoing {
  const ip = o.sourceIp ?? '192.0.2.10';
  const body = {
    'Event-Category': 'directory',
    'Event-Name': 'reg_success',
    Status: o.expires === 0 ? 'Unregistered' : 'Registered',
    'Event-Timestamp': o.ts ?? Math.floor(Date.now() / 1000) - 1,
    Expires: o.expires ?? 600,
    'First-Registration': true,
    Contact: o.contact ?? `<sip:${o.username}@${ip}:5060;transport=UDP>`,
    'Call-ID': o.callId ?? `${o.username}-${randomUUID()}`,
    Realm: o.realm,
    Username: o.username,
    'From-User': o.username,
    'From-Host': o.realm,
    'To-User': o.username,
    'To-Host': o.realm,
    'User-Agent': o.userAgent ?? 'Yealink SIP-T46S 66.86.0.15',
    'Custom-Channel-Vars': {
      'Account-ID': o.accountId,
      'Authorizing-ID': 'ae17b8d87914bfc1ff60d214b4832767',
      'Authorizing-Type': 'device',
      Username: o.username,
      Realm: o.realm,
      'Account-Realm': o.realm,
    },
    'Proxy-Path': 'sip:198.51.100.1:5060;transport=udp',
    'Proxy-Protocol': 'udp',
    'Proxy-IP': '198.51.100.1',
    'Proxy-Port': '5060',
    'Source-IP': ip,
    'Source-Port': '5060',
    'App-Name': 'kamailio',
    'App-Version': '5.6.3',
    Node: 'kamailio@console.e2e',
    'Msg-ID': randomUUID(),
  };
  return { exchange: 'registrar', routingKey: keys.regSuccess(o.realm, o.username), body };
}
