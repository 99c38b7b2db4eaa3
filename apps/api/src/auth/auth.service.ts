// Who is calling and what they may touch. A token acts for its account and that account's
// descendants; a super-admin account acts everywhere. Tokens and the account tree are cached
// for a few seconds: every API request needs them, and they change rarely.
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Account, AccountStore, CredentialStore } from '@app/persistence';
import { ApiError } from '../common/api-error';
import { KazooJwtVerifier, looksLikeJwt } from './kazoo-jwt';
import { AUTH_CACHE_MS } from './auth-cache';

export interface Principal {
  accountId: string;
  isSuperadmin: boolean;
  token: string;
}

const CACHE_MS = AUTH_CACHE_MS;
const CACHE_MAX = 20_000;

/** The token of a request: X-Auth-Token, a Bearer token, or Kazoo's auth_token query parameter. */
export function authTokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-auth-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || undefined;
  const q = (req.query as Record<string, unknown> | undefined)?.auth_token;
  return typeof q === 'string' && q ? q : undefined;
}

/** The API key of an HTTP Basic authorization: its password (sipXcom administrators' Basic auth). */
export function basicApiKeyOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (!auth || !/^basic\s/i.test(auth)) return undefined;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

class TtlCache<V> {
  private readonly map = new Map<string, { value: V; until: number }>();
  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit || hit.until < Date.now()) return undefined;
    return hit.value;
  }
  set(key: string, value: V, ttlMs = CACHE_MS): void {
    if (this.map.size >= CACHE_MAX) this.map.clear();
    this.map.set(key, { value, until: Date.now() + ttlMs });
  }
}

@Injectable()
export class AuthService {
  private readonly tokens = new TtlCache<{ accountId: string; expiresAt: number } | null>();
  private readonly accounts = new TtlCache<{ account: Account; ancestors: string[] } | null>();
  private readonly apiKeys = new TtlCache<string | null>();

  constructor(
    private readonly credentials: CredentialStore,
    private readonly accountStore: AccountStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly kazooJwt: KazooJwtVerifier,
  ) {}

  async login(apiKey: string) {
    return this.credentials.issueToken(apiKey, this.config.AUTH_TOKEN_TTL_S);
  }

  /** The caller (a token in any of Kazoo's places), or 401. */
  async authenticate(req: FastifyRequest): Promise<Principal> {
    const token = authTokenOf(req);
    if (!token) throw ApiError.unauthenticated();
    return this.principalOfToken(token);
  }

  /** sipXcom: HTTP Basic with an API key as password, or X-Auth-Token; else 401. */
  async authenticateBasicOrToken(req: FastifyRequest): Promise<Principal> {
    if (/^basic\s/i.test(req.headers.authorization ?? '')) {
      const apiKey = basicApiKeyOf(req);
      let accountId = apiKey === undefined ? null : this.apiKeys.get(apiKey);
      if (apiKey !== undefined && accountId === undefined) {
        accountId = (await this.credentials.resolveApiKey(apiKey)) ?? null;
        this.apiKeys.set(apiKey, accountId);
      }
      const own = accountId ? await this.account(accountId) : undefined;
      if (!accountId || !own) throw ApiError.unauthenticated();
      return { accountId, isSuperadmin: own.account.isSuperadmin, token: '' };
    }
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || !token) throw ApiError.unauthenticated();
    return this.principalOfToken(token);
  }

  /** Hosted PBX: `Authorization: Bearer <token>` only; else 401. */
  async authenticateBearer(req: FastifyRequest): Promise<Principal> {
    const token = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw ApiError.unauthenticated();
    return this.principalOfToken(token);
  }

  private async principalOfToken(token: string): Promise<Principal> {
    // Kazoo's own JWTs (ours are opaque): same account-tree rules once the account is known.
    if (this.kazooJwt.enabled && looksLikeJwt(token)) {
      const { accountId } = await this.kazooJwt.verify(token);
      const own = await this.account(accountId);
      return { accountId, isSuperadmin: own?.account.isSuperadmin ?? false, token };
    }
    let grant = this.tokens.get(token);
    if (grant === undefined) {
      const found = await this.credentials.resolveToken(token);
      grant = found ? { accountId: found.accountId, expiresAt: found.expiresAt.getTime() } : null;
      this.tokens.set(token, grant);
    }
    if (!grant || grant.expiresAt <= Date.now()) throw ApiError.unauthenticated();
    const own = await this.account(grant.accountId);
    if (!own) throw ApiError.unauthenticated();
    return { accountId: grant.accountId, isSuperadmin: own.account.isSuperadmin, token };
  }

  /** The target account if the caller may act on it; 403 otherwise, 404 for a super-admin asking for nothing. */
  async authorize(principal: Principal, accountId: string): Promise<Account> {
    const target = /^[0-9a-f]{32}$/.test(accountId) ? await this.account(accountId) : undefined;
    if (principal.isSuperadmin) {
      if (!target) throw ApiError.notFound(`no account ${accountId}`, accountId);
      return target.account;
    }
    // Unknown and foreign accounts answer alike, so that ids cannot be probed.
    if (!target || !target.ancestors.includes(principal.accountId)) throw ApiError.forbidden();
    return target.account;
  }

  requireSuperadmin(principal: Principal): void {
    if (!principal.isSuperadmin) throw ApiError.forbidden();
  }

  private async account(id: string) {
    let hit = this.accounts.get(id);
    if (hit === undefined) {
      const account = await this.accountStore.get(id);
      hit = account ? { account, ancestors: await this.accountStore.ancestors(id) } : null;
      this.accounts.set(id, hit);
    }
    return hit ?? undefined;
  }
}
