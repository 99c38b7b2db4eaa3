// Rate limits of PUT /v2/api_auth: one token bucket per client address and one per API key (the
// key's hash), each refilled at API_AUTH_RATE_PER_CLIENT / API_AUTH_RATE_PER_KEY a minute, a
// minute's worth of burst. Every attempt costs a token, valid or not, and is counted before the
// database is asked. As Kazoo's cb_api_auth consumes kz_buckets tokens per client
// (crossbar/src/modules/cb_api_auth.erl consume_tokens), an empty bucket answers 429
// too_many_requests, here with Retry-After. Buckets live in this process: with N API instances
// behind a balancer a client gets up to N times the rate.
import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApiError } from '../common/api-error';

const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per name: `capacity` tokens, refilled at `perMinute` a minute. */
export class TokenBuckets {
  private readonly buckets = new LRUCache<string, Bucket>({ max: MAX_BUCKETS });

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token; undefined when granted, else the seconds until one is there. */
  take(name: string): number | undefined {
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const b = this.buckets.get(name) ?? { tokens: this.perMinute, at: now };
    const tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * perMs);
    if (tokens >= 1) {
      this.buckets.set(name, { tokens: tokens - 1, at: now });
      return undefined;
    }
    this.buckets.set(name, { tokens, at: now });
    return (1 - tokens) / perMs / 1000;
  }
}

@Injectable()
export class ApiAuthRateLimiter {
  private readonly clients: TokenBuckets;
  private readonly keys: TokenBuckets;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.clients = new TokenBuckets(config.API_AUTH_RATE_PER_CLIENT);
    this.keys = new TokenBuckets(config.API_AUTH_RATE_PER_KEY);
  }

  /** Throws 429 when the client or the key used up its rate; otherwise costs one token each. */
  check(clientIp: string, apiKey: string | undefined): void {
    const clientWait = this.clients.take(clientIp);
    if (clientWait !== undefined) throw ApiError.tooManyRequests('too many requests', clientWait);
    if (apiKey === undefined) return;
    const keyWait = this.keys.take(createHash('sha256').update(apiKey).digest('base64'));
    if (keyWait !== undefined) throw ApiError.tooManyRequests('too many requests', keyWait);
  }
}
