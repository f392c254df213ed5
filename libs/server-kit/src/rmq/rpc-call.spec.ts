import { ErrorCode } from '@outpost/contracts';
import { TimeoutError } from 'rxjs';
import { DomainError } from '../errors/domain-error';
import { rpcErrorToDomainError } from './rpc-call';

describe('rpcErrorToDomainError', () => {
  it('rebuilds a DomainError from an RPC error payload', () => {
    const err = rpcErrorToDomainError(
      {
        code: 'CLIENT_DEACTIVATED',
        message: 'Client "a" is deactivated',
        correlationId: 'abc',
        details: { name: 'a' },
      },
      'registry.authenticate',
    );
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({
      code: ErrorCode.ClientDeactivated,
      correlationId: 'abc',
      details: { name: 'a' },
    });
  });

  it('reports a timeout as an unavailable dependency naming the pattern', () => {
    const err = rpcErrorToDomainError(new TimeoutError(), 'inbox.list', 'x');
    expect(err.code).toBe(ErrorCode.DependencyUnavailable);
    expect(err.message).toContain('inbox.list');
  });

  it('reports an unknown failure as an unavailable dependency', () => {
    expect(rpcErrorToDomainError(new Error('ECONNREFUSED'), 'registry.list').code).toBe(
      ErrorCode.DependencyUnavailable,
    );
  });
});
