import { describe, expect, it } from 'vitest';
import {
  CheckReplyError,
  CheckReplyReader,
  encodeCheckRequest,
} from './syntax-checker-protocol.ts';

describe('encodeCheckRequest', () => {
  it('prefixes the UTF-8 bytes with their count, not the string length', () => {
    expect(encodeCheckRequest('é\n').toString('latin1')).toBe('3\n\xc3\xa9\n');
    expect(encodeCheckRequest('').toString()).toBe('0\n');
  });

  it('writes a lone surrogate as the file write would: U+FFFD', () => {
    expect(encodeCheckRequest('\ud800')).toEqual(Buffer.from('3\n\xef\xbf\xbd', 'latin1'));
  });
});

describe('CheckReplyReader', () => {
  it('cuts replies however the pipe splits them', () => {
    const wire = Buffer.from('0 0\n1 5\nabc\n\n2 3 last\nxyz');
    for (let size = 1; size <= wire.length; size++) {
      const reader = new CheckReplyReader();
      const replies = [];
      for (let at = 0; at < wire.length; at += size)
        replies.push(...reader.push(wire.subarray(at, at + size)));
      expect(replies.map((r) => [r.status, r.stderr.toString(), r.last])).toEqual([
        [0, '', false],
        [1, 'abc\n\n', false],
        [2, 'xyz', true],
      ]);
      expect(reader.idle).toBe(true);
    }
  });

  it('keeps what looks like a header inside a reply', () => {
    const reader = new CheckReplyReader();
    const replies = reader.push(Buffer.from('1 12\n0 0\n1 3 last0 0\n'));
    expect(replies).toHaveLength(2);
    expect(replies[0]?.stderr.toString()).toBe('0 0\n1 3 last');
    expect(replies[1]).toMatchObject({ status: 0, last: false });
  });

  it('refuses what is no reply', () => {
    expect(() => new CheckReplyReader().push(Buffer.from('hello\n'))).toThrow(CheckReplyError);
    expect(() => new CheckReplyReader().push(Buffer.from('1 -3\n'))).toThrow(CheckReplyError);
    expect(() => new CheckReplyReader().push(Buffer.from('1 3 later\n'))).toThrow(CheckReplyError);
    expect(() => new CheckReplyReader().push(Buffer.alloc(40, 0x31))).toThrow(CheckReplyError);
  });

  it('is not idle in the middle of a reply', () => {
    const reader = new CheckReplyReader();
    expect(reader.push(Buffer.from('1 4\nab'))).toEqual([]);
    expect(reader.idle).toBe(false);
  });
});
