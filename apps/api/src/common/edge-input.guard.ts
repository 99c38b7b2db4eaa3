// Applies checkEdgeInput to every routed request (registered globally in ApiModule), so the
// dialect's exception filter renders the 400 in its own envelope.
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { checkEdgeInput, EdgeInput } from './edge-input';

@Injectable()
export class EdgeInputGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    checkEdgeInput({
      params: req.params as EdgeInput['params'],
      query: req.query as EdgeInput['query'],
      headers: req.headers as EdgeInput['headers'],
      body: req.body,
    });
    return true;
  }
}
