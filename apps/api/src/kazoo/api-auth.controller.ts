// PUT /v2/api_auth: an API key buys an auth token (Kazoo's api_auth).
import { Body, Controller, HttpCode, Put, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { envelope } from './kazoo-envelope';
import { ApiAuthRateLimiter } from '../auth/api-auth-rate-limiter';
import { ApiError } from '../common/api-error';

const apiAuthBody = z.object({ data: z.object({ api_key: z.string().min(1) }) });

@ApiTags('kazoo')
@Controller('v2/api_auth')
export class ApiAuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: ApiAuthRateLimiter,
  ) {}

  @Put()
  @HttpCode(201)
  @ApiOperation({ summary: 'Exchange an API key for an auth token (send it as X-Auth-Token)' })
  @ApiBody({ schema: { example: { data: { api_key: '64 hex digits' } } } })
  async login(@Req() req: FastifyRequest, @Body() body: unknown) {
    const parsed = apiAuthBody.safeParse(body);
    this.limiter.check(req.ip, parsed.success ? parsed.data.data.api_key : undefined);
    if (!parsed.success)
      throw ApiError.invalidInput('api_key', 'required', 'data.api_key is required');
    const grant = await this.auth.login(parsed.data.data.api_key);
    if (!grant) throw ApiError.unauthenticated();
    return envelope(
      { authToken: grant.token, requestId: String(req.id) },
      { account_id: grant.accountId, expires_at: grant.expiresAt.toISOString() },
    );
  }
}
