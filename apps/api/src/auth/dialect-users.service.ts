// Who calls the sipXcom routes: a dialect user with HTTP Digest (RFC 7616, MD5 or SHA-256) or
// HTTP Basic (checked against its scrypt hash), or, as before, Basic with an API key as the
// password or an X-Auth-Token. Every refusal is a 401 carrying challenges for both schemes:
// a fresh nonce per algorithm (stale=true when the client's nonce only expired) and Basic.
import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  AccountStore,
  DIGEST_REALM,
  DialectUserStore,
  DUMMY_PASSWORD_HASH,
  verifyPassword,
} from '@app/persistence';
import { ApiError } from '../common/api-error';
import { AuthService, type Principal } from './auth.service';
import {
  digestChallenges,
  expectedResponse,
  issueNonce,
  nonceIssuedAt,
  parseDigestAuthorization,
  sameHex,
} from './digest';

/** How long a nonce is accepted; after that the client is told stale=true and retries. */
export const NONCE_TTL_MS = 300_000;
/** A verified Basic password is remembered this long: scrypt costs tens of ms per check. */
const BASIC_CACHE_MS = 5_000;
const BASIC_CACHE_MAX = 10_000;

@Injectable()
export class DialectUsersAuthService {
  private readonly logger = new Logger('DialectAuth');
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private lastPrune = 0;

  constructor(
    private readonly users: DialectUserStore,
    private readonly accounts: AccountStore,
    private readonly auth: AuthService,
  ) {}

  async authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization ?? '';
    if (/^digest\s/i.test(header)) return this.digest(req, header);
    if (/^basic\s/i.test(header)) {
      const apiKeyPrincipal = await this.viaAuthService(req);
      if (apiKeyPrincipal) return apiKeyPrincipal;
      return (await this.basicUser(header)) ?? this.refuse(false);
    }
    return (await this.viaAuthService(req)) ?? this.refuse(false);
  }

  /** The existing credentials (API key as Basic password, X-Auth-Token), or undefined. */
  private async viaAuthService(req: FastifyRequest): Promise<Principal | undefined> {
    try {
      return await this.auth.authenticateBasicOrToken(req);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'unauthenticated') return undefined;
      throw e;
    }
  }

  private async basicUser(header: string): Promise<Principal | undefined> {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const cacheKey = createHash('sha256').update(`${name}\0${password}`).digest('base64');
    const hit = this.verified.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.principal;
    const user = await this.users.byName(name);
    // An unknown name costs a hash too, so that timing does not tell which names exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) return undefined;
    const principal = await this.principalOf(user.accountId);
    if (principal) {
      if (this.verified.size >= BASIC_CACHE_MAX) this.verified.clear();
      this.verified.set(cacheKey, { principal, until: Date.now() + BASIC_CACHE_MS });
    }
    return principal;
  }

  private async digest(req: FastifyRequest, header: string): Promise<Principal> {
    const parsed = parseDigestAuthorization(header);
    if (!parsed.ok) return this.refuse(false, parsed.why);
    const c = parsed.credentials;
    if (c.realm !== DIGEST_REALM) return this.refuse(false, 'wrong realm');
    // The URI as sent (before sipxcom-suffix.ts stripped a .json / .xml suffix).
    if (c.uri !== (req.originalUrl ?? req.url))
      return this.refuse(false, 'uri is not the request URI');
    const issuedAt = nonceIssuedAt(await this.users.nonceSecret(), c.nonce);
    if (issuedAt === undefined) return this.refuse(false, 'nonce not ours');
    const user = await this.users.byName(c.username);
    if (!user || user.digestRealm !== DIGEST_REALM) return this.refuse(false, 'unknown user');
    const ha1 = (c.algorithm === 'MD5' ? user.ha1Md5 : user.ha1Sha256).toString('hex');
    if (!sameHex(expectedResponse(c, ha1, req.method), c.response))
      return this.refuse(false, 'wrong response');
    // The client knows the password: an old nonce only needs a new one (RFC 7616 §3.3 stale).
    const expiresAt = issuedAt + NONCE_TTL_MS;
    if (expiresAt <= Date.now()) return this.refuse(true, 'nonce expired');
    if (!(await this.users.useNonce(c.nonce, c.nc, new Date(expiresAt))))
      return this.refuse(false, 'nonce count already used (replay)');
    this.pruneNow();
    return (await this.principalOf(user.accountId)) ?? this.refuse(false, 'account gone');
  }

  private async principalOf(accountId: string): Promise<Principal | undefined> {
    const account = await this.accounts.get(accountId);
    return account ? { accountId, isSuperadmin: account.isSuperadmin, token: '' } : undefined;
  }

  private async refuse(stale: boolean, why?: string): Promise<never> {
    if (why) this.logger.debug(`Digest refused: ${why}`);
    const nonce = issueNonce(await this.users.nonceSecret());
    throw ApiError.unauthenticated({
      'www-authenticate': [
        ...digestChallenges(DIGEST_REALM, nonce, stale),
        `Basic realm="${DIGEST_REALM}", charset="UTF-8"`,
      ],
    });
  }

  /** Forgets the nonce uses that can no longer matter, at most once a minute. */
  private pruneNow(): void {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    this.users
      .pruneNonceUses()
      .catch((e: unknown) => this.logger.warn(`pruning nonce uses failed: ${String(e)}`));
  }
}
