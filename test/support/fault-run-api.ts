// The API side of the fault run: the real API app against the run's database (the private
// cluster that the run stops and starts) and broker, an account owning the run's realm, and the
// flushes a client makes through it — Kazoo `DELETE /v2/accounts/{id}/registrations/{user}`
// (crossbar cb_registrations: reg_flush of the user, then check-sync) and sipXcom
// `DELETE /sipxconfig/api/registrations/callId/{callId}` (one contact) — each retried as a
// client retries, until it is answered for good.
//
// What a client does with an error answer: a 503 (the database or the bus unavailable) is
// "try again later" (RFC 9110 §15.6.4), so it tries again until a deadline. A flush is safe to
// try again: every attempt ends what is live at that moment, and an attempt that answered an
// error either ended nothing (the store's end is one transaction, the last step of a Kazoo
// flush) or, for sipXcom (which reads the ended rows back after the end), ended the contact —
// then the next attempt finds no live registration with that Call-ID and answers 200 with
// `X-Registrations-Stopped: 0`, which after an error answer means "done by the attempt
// before". Either way the flush took effect once, and the test's model ends the binding once.
// Any other answer — a 500, a body with a stack trace or Postgres's own text, nothing stopped
// on a first try — is counted as bad, and must not happen.
import { AccountStore, CredentialStore } from '@app/persistence';
import { startApiApp } from './apps';
import { accountIdOf } from './messages';
import { testConfig } from './test-env';

export interface ApiFlushStats {
  /** Flushes the test asked for (each until answered for good). */
  sent: number;
  /** Of which Kazoo DELETEs of a user, and sipXcom DELETEs of a Call-ID. */
  users: number;
  callIds: number;
  /** Flushes answered for good (200). */
  answered: number;
  /** HTTP requests made, retries included. */
  requests: number;
  /** Error answers (retried), by status; `network` when no answer came. */
  errors: Record<string, number>;
  /** Answers no client should see: 500, a stack trace, database text, nothing stopped at once. */
  bad: string[];
}

/** Text that must never reach a client: a stack frame, or Postgres's own words. */
const LEAK =
  /\n\s+at |ECONNREFUSED|terminating connection|the database system is|relation "|syntax error/i;

export class FaultRunApi {
  readonly stats: ApiFlushStats = {
    sent: 0,
    users: 0,
    callIds: 0,
    answered: 0,
    requests: 0,
    errors: {},
    bad: [],
  };

  private constructor(
    readonly url: string,
    private readonly accountId: string,
    private readonly token: string,
    private readonly apiKey: string,
    readonly close: () => Promise<void>,
  ) {}

  static async start(realm: string, databaseUrl: string, amqpUrl: string): Promise<FaultRunApi> {
    const { app, url } = await startApiApp(
      testConfig({ DATABASE_URL: databaseUrl, AMQP_URL: amqpUrl }),
    );
    const id = accountIdOf(realm); // the Account-ID the Kazoo events carry
    await app.get(AccountStore).createOrAdopt({ id, name: 'fault-run', realm });
    const credentials = app.get(CredentialStore);
    const apiKey = await credentials.createApiKey(id);
    const grant = await credentials.issueToken(apiKey, 24 * 3600);
    return new FaultRunApi(url.replace('[::1]', '127.0.0.1'), id, grant!.token, apiKey, () =>
      app.close(),
    );
  }

  /** Kazoo: flush every binding of one SIP username (and check-sync, as Kazoo does). */
  flushUser(username: string, deadlineMs = 90_000): Promise<void> {
    this.stats.users++;
    return this.until(
      'DELETE',
      `/v2/accounts/${this.accountId}/registrations/${encodeURIComponent(username)}`,
      { 'x-auth-token': this.token },
      deadlineMs,
    );
  }

  /** sipXcom: stop the registrations of one Call-ID (one contact: reg_flush naming it). */
  flushCallId(callId: string, deadlineMs = 90_000): Promise<void> {
    this.stats.callIds++;
    const basic = Buffer.from(`superadmin:${this.apiKey}`).toString('base64');
    return this.until(
      'DELETE',
      `/sipxconfig/api/registrations/callId/${encodeURIComponent(callId)}`,
      { authorization: `Basic ${basic}` },
      deadlineMs,
      // (sipXconfig answers 200 and no body; ours counts what it stopped in a header.)
      (res, attempt) => attempt > 0 || res.headers.get('x-registrations-stopped') === '1',
    );
  }

  private async until(
    method: string,
    path: string,
    headers: Record<string, string>,
    deadlineMs: number,
    /** A 200 as it must be (the first attempt stopped what it was asked to). */
    right: (res: Response, attempt: number) => boolean = () => true,
  ): Promise<void> {
    const s = this.stats;
    s.sent++;
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      s.requests++;
      let status = 0;
      let text = '';
      let res: Response | undefined;
      try {
        res = await fetch(this.url + path, { method, headers });
        status = res.status;
        text = await res.text();
      } catch {
        status = 0; // no answer (the app is up all along: not expected, but a client retries)
      }
      if (LEAK.test(text)) s.bad.push(`${method} ${path} ${status}: ${text.slice(0, 300)}`);
      if (status === 200) {
        s.answered++;
        if (!right(res!, attempt))
          s.bad.push(`${method} ${path} stopped ${res!.headers.get('x-registrations-stopped')}`);
        return;
      }
      if (status !== 503 && status !== 0) {
        s.bad.push(`${method} ${path} answered ${status}: ${text.slice(0, 300)}`);
        return;
      }
      const key = status === 0 ? 'network' : String(status);
      s.errors[key] = (s.errors[key] ?? 0) + 1;
      if (Date.now() > deadline) {
        s.bad.push(`${method} ${path}: still ${key} after ${deadlineMs} ms`);
        return;
      }
      await new Promise((r) => setTimeout(r, 250)); // a client's back-off between retries
    }
  }
}
