import { ErrorCode } from '@outpost/contracts';
import { selectSchema } from '@outpost/schema';
import { DomainError } from '@outpost/server-kit';
import { sessionSchema } from './session-schema';

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('sessionSchema', () => {
  const server = selectSchema('sales@3');

  it('sends a laptop behind the steps of every later version, none to one up to date', () => {
    const behind = sessionSchema(server, { name: 'sales', version: 1 }, 'bob-laptop');
    expect(behind).toMatchObject({ name: 'sales', version: 3, oldestSupported: 1 });
    expect(behind.upgrade.map((v) => v.version)).toEqual([2, 3]);
    expect(behind.upgrade[0].steps[0]).toEqual({
      addColumn: { table: 'opportunity', column: { name: 'probability', type: 'integer', default: 10 } },
    });
    expect(sessionSchema(server, { name: 'sales', version: 3 }, 'bob-laptop').upgrade).toEqual([]);
  });

  it('refuses a laptop newer than the server, saying nothing is lost and what to do', () => {
    const err = refusal(() =>
      sessionSchema(selectSchema('sales@2'), { name: 'sales', version: 3 }, 'bob-laptop'),
    );
    expect(err.code).toBe(ErrorCode.SchemaTooNew);
    expect(err.message).toMatch(
      /newer than the server's v2.*nothing is lost.*sync again once the server runs v3/,
    );
    expect(err.details).toMatchObject({ server: { version: 2 }, laptop: { version: 3 } });
  });

  it('refuses a laptop older than the oldest supported version and another schema', () => {
    const strict = { ...server, history: { ...server.history, oldestSupported: 2 } };
    const old = refusal(() => sessionSchema(strict, { name: 'sales', version: 1 }, 'bob-laptop'));
    expect(old.code).toBe(ErrorCode.SchemaTooOld);
    expect(old.message).toMatch(
      /older than the oldest version the server still accepts \(v2\).*nothing is lost/,
    );
    const other = refusal(() => sessionSchema(server, { name: 'field_service', version: 1 }, 'bob-laptop'));
    expect(other.code).toBe(ErrorCode.SchemaMismatch);
    expect(other.message).toMatch(/sync-agent init --schema sales/);
  });
});
