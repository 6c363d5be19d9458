import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkMutationContentType, checkOrigin, RequestRefusedError } from './request-guards.ts';

const request = (headers: Record<string, string>, method = 'POST') =>
  ({ method, headers: { host: 'localhost:3000', ...headers } }) as unknown as IncomingMessage;

describe('request guards', () => {
  it('lets the own origin, allowed origins and no origin through; refuses others', () => {
    expect(() => checkOrigin(request({ origin: 'http://localhost:3000' }), [])).not.toThrow();
    expect(() => checkOrigin(request({}), [])).not.toThrow();
    expect(() =>
      checkOrigin(request({ origin: 'https://ok.example' }), ['https://ok.example']),
    ).not.toThrow();
    expect(() => checkOrigin(request({ origin: 'https://evil.example' }), [])).toThrow(
      RequestRefusedError,
    );
  });

  it('refuses the content types a plain HTML form can post', () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', '']) {
      expect(() => checkMutationContentType(request(type ? { 'content-type': type } : {}))).toThrow(
        /is refused/,
      );
    }
    expect(() =>
      checkMutationContentType(request({ 'content-type': 'application/json' })),
    ).not.toThrow();
    expect(() =>
      checkMutationContentType(request({ 'content-type': 'multipart/form-data; boundary=x' })),
    ).not.toThrow();
    expect(() => checkMutationContentType(request({}, 'GET'))).not.toThrow();
  });
});
