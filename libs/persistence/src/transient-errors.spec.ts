// What the ingest retries (the batch waits and comes back) and what it isolates and dead-letters.
import { isTransientDbError, WriteConflict } from './transient-errors';

describe('isTransientDbError', () => {
  it('retries a batch that kept meeting other writers', () => {
    expect(isTransientDbError(new WriteConflict('2 bindings changed meanwhile'))).toBe(true);
  });

  it('retries when Postgres is unreachable or shutting down', () => {
    expect(isTransientDbError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isTransientDbError(Object.assign(new Error('admin shutdown'), { code: '57P01' }))).toBe(
      true,
    );
  });

  it('does not retry what the data caused', () => {
    expect(isTransientDbError(Object.assign(new Error('not null'), { code: '23502' }))).toBe(false);
    expect(isTransientDbError(new Error('invalid input syntax'))).toBe(false);
  });
});
