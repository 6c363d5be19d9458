import { describe, expect, it } from 'vitest';
import {
  attemptResult,
  DELIVERY_STATES,
  fieldError,
  isPending,
  lastResult,
  nextTry,
} from './deliveries';

/** An error as the tRPC client hands it over: a message, and `data` from the server's formatter. */
function trpcError(message: string, runbox: Record<string, unknown> | null): Error {
  return Object.assign(new Error(message), { data: { code: 'BAD_REQUEST', runbox } });
}

describe('delivery words', () => {
  it('lists every state once', () => {
    expect(DELIVERY_STATES).toEqual(['pending', 'delivered', 'failed', 'gone', 'refused']);
    expect(DELIVERY_STATES.filter((state) => isPending({ state }))).toEqual(['pending']);
  });

  it('says what an attempt got: the HTTP status, else the error', () => {
    expect(attemptResult({ status: 500, error: null })).toBe('HTTP 500');
    expect(attemptResult({ status: 200, error: null })).toBe('HTTP 200');
    expect(attemptResult({ status: null, error: 'connect ECONNREFUSED 127.0.0.1:9' })).toBe(
      'connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(attemptResult({ status: null, error: null })).toBe('no answer');
  });

  it('shows a dash before the first attempt', () => {
    expect(lastResult({ lastStatus: null, lastError: null })).toBe('—');
    expect(lastResult({ lastStatus: 410, lastError: null })).toBe('HTTP 410');
    expect(lastResult({ lastStatus: null, lastError: 'timed out' })).toBe('timed out');
  });

  it('counts down to the next try only while pending', () => {
    const now = 1_000_000;
    expect(nextTry({ state: 'pending', nextAttemptAt: now + 4_200 }, now)).toBe('in 4.2 s');
    expect(nextTry({ state: 'pending', nextAttemptAt: now + 90_000 }, now)).toBe('in 1 min 30 s');
    // Due, or in flight, or the browser's clock is ahead of the server's.
    expect(nextTry({ state: 'pending', nextAttemptAt: now + 100 }, now)).toBe('now');
    expect(nextTry({ state: 'pending', nextAttemptAt: now - 5_000 }, now)).toBe('now');
    expect(nextTry({ state: 'pending', nextAttemptAt: null }, now)).toBe('—');
    expect(nextTry({ state: 'delivered', nextAttemptAt: now + 4_000 }, now)).toBe('—');
    expect(nextTry({ state: 'failed', nextAttemptAt: null }, now)).toBe('—');
  });
});

describe('fieldError', () => {
  it('takes the message of a runbox error that names the field', () => {
    const refused = trpcError(
      'callbackUrl: its host is a private network address, which runbox does not call',
      { code: 'CALLBACK_REFUSED', field: 'callbackUrl', rule: 'forbidden-address' },
    );
    expect(fieldError(refused, 'callbackUrl')).toBe(refused.message);
    expect(fieldError(refused, 'code')).toBeNull();
  });

  it('leaves a runbox error about something else to the form', () => {
    const limit = trpcError('wallTimeMs is out of range', {
      code: 'LIMIT_OUT_OF_RANGE',
      field: 'wallTimeMs',
    });
    expect(fieldError(limit, 'callbackUrl')).toBeNull();
    expect(fieldError(trpcError('queue is full', { code: 'QUEUE_FULL' }), 'callbackUrl')).toBe(
      null,
    );
  });

  it('finds the field in an input validation error (zod issues as JSON)', () => {
    const issues = [
      { code: 'too_big', message: 'code is too long', path: ['code'] },
      {
        code: 'custom',
        message: 'callbackUrl must be an https:// or http:// URL, not ftp:',
        params: { rule: 'url-scheme' },
        path: ['callbackUrl'],
      },
    ];
    const invalid = trpcError(JSON.stringify(issues, null, 2), null);
    expect(fieldError(invalid, 'callbackUrl')).toBe(
      'callbackUrl must be an https:// or http:// URL, not ftp:',
    );
    expect(fieldError(invalid, 'code')).toBe('code is too long');
    expect(fieldError(invalid, 'stdin')).toBeNull();
  });

  it('is null for anything that is not such an error', () => {
    expect(fieldError(null, 'callbackUrl')).toBeNull();
    expect(fieldError('callbackUrl', 'callbackUrl')).toBeNull();
    expect(fieldError(new Error('Failed to fetch'), 'callbackUrl')).toBeNull();
    expect(fieldError(new Error('[not json'), 'callbackUrl')).toBeNull();
    expect(fieldError(new Error('{"path":["callbackUrl"]}'), 'callbackUrl')).toBeNull();
  });
});
