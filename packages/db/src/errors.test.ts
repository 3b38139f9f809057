import { classifyDatabaseError } from './errors';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['08006', 'transient'], // connection failure
    ['40P01', 'transient'], // deadlock
    ['40001', 'transient'], // serialization failure
    ['53100', 'transient'], // disk full
    ['53300', 'transient'], // too many connections
    ['55P03', 'transient'], // lock not available (lock_timeout)
    ['57014', 'transient'], // statement timeout
    ['57P01', 'transient'], // admin shutdown
    ['58030', 'transient'], // I/O error
    ['42P01', 'schema'], // undefined table (migrations still running)
    ['42703', 'schema'], // undefined column
    ['22P02', 'data'], // invalid text representation
    ['23505', 'data'], // unique violation
    ['XX000', 'other'], // internal error
  ])('SQLSTATE %s is %s', (code, kind) => {
    expect(classifyDatabaseError(pgError(code))).toBe(kind);
  });

  it('treats network and DNS errors as transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']) {
      expect(classifyDatabaseError(pgError(code))).toBe('transient');
    }
  });

  it("treats the pg client's own timeouts as transient, and anything else as other", () => {
    expect(classifyDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe('transient');
    expect(classifyDatabaseError(new Error('Query read timeout'))).toBe('transient');
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyDatabaseError(new TypeError('cannot read properties of undefined'))).toBe('other');
    expect(classifyDatabaseError('not an error')).toBe('other');
  });
});
