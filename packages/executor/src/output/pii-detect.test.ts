import { describe, expect, it } from 'vitest';
import { findPii, piiOpenStart, PII_MAX_MATCH_LENGTH } from './pii-detect.ts';

/** [kind, matched text] of every datum found. */
const found = (text: string) => findPii(text).map((m) => [m.kind, text.slice(m.start, m.end)]);

// Test card numbers published by the card networks for testing; none belongs to anyone.
const visa = '4111111111111111';
const mastercard = '5555555555554444';
const amex = '378282246310005';
// The IBAN from the ISO 13616 examples.
const iban = 'DE89370400440532013000';

describe('findPii: e-mail addresses', () => {
  it.each([
    ['mail john.doe@example.com now', 'john.doe@example.com'],
    ['<Jane+tag@Sub.Example.ORG>', 'Jane+tag@Sub.Example.ORG'],
    ['end of sentence a.b@c-d.io.', 'a.b@c-d.io'],
  ])('finds the address in %j', (text, address) => {
    expect(found(text)).toEqual([['email', address]]);
  });

  it.each([['a@b.c'], ['x@localhost'], ['@example.com'], ['user@-bad.com'], ['user@a..com']])(
    'leaves %j alone',
    (text) => {
      expect(found(text)).toEqual([]);
    },
  );

  it('gives the same value for the same address however it is cased', () => {
    const [a, b] = findPii('John@Example.com and john@example.COM');
    expect(a?.value).toBe('john@example.com');
    expect(b?.value).toBe(a?.value);
  });
});

describe('findPii: phone numbers', () => {
  it.each([
    ['Call +49 30 1234567 today', '+49 30 1234567'],
    ['tel:+441632960961', '+441632960961'],
    ['+1 (555) 123-4567', '+1 (555) 123-4567'],
    ['(555) 123-4567', '(555) 123-4567'],
    ['phone 555-123-4567.', '555-123-4567'],
    ['555.123.4567', '555.123.4567'],
    ['1-555-123-4567', '1-555-123-4567'],
    ['030 1234 5678', '030 1234 5678'],
    ['0171-1234567', '0171-1234567'],
  ])('finds the number in %j', (text, number) => {
    expect(found(text)).toEqual([['phone', number]]);
  });

  it.each([
    ['2024-01-15 12:30:45'],
    ['01.02.2024 12:30'],
    ['192.168.100.200'],
    ['1700000000'],
    ['version 1.2.3456'],
    ['555-1234'],
    ['+123'],
    ['5551234567'],
    ['555-123.4567'],
    ['room 555-123-45678'],
  ])('leaves %j alone', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('findPii: payment card numbers', () => {
  it.each([
    [`card ${visa} exp`, visa],
    ['4111 1111 1111 1111', '4111 1111 1111 1111'],
    ['4111-1111-1111-1111', '4111-1111-1111-1111'],
    [`amex ${amex}`, amex],
    ['3782 822463 10005', '3782 822463 10005'],
    [`ref 1234 ${mastercard.replace(/(\d{4})(?=\d)/g, '$1 ')}`, '5555 5555 5555 4444'],
  ])('finds the number in %j', (text, number) => {
    expect(found(text)).toEqual([['card', number]]);
  });

  it('keeps digits only as the value', () => {
    expect(findPii('4111 1111 1111 1111')[0]?.value).toBe(visa);
  });

  it.each([
    ['Luhn-invalid', '4111111111111112'],
    ['Luhn-invalid, grouped', '4111 1111 1111 1112'],
    ['a millisecond timestamp', '1700000000000'],
    ['part of a word', `id${visa}`],
    ['followed by letters', `${visa}abc`],
    ['a decimal fraction', `3.${visa}`],
    ['too long', `${visa}0000`],
    ['mixed separators', '4111 1111-1111 1111'],
  ])('leaves a number alone when %s', (_why, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('findPii: IBANs', () => {
  it.each([
    [`IBAN ${iban}.`, iban],
    ['DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00'],
    ['GB82 WEST 1234 5698 7654 32 BIC NWBKGB2L', 'GB82 WEST 1234 5698 7654 32'],
  ])('finds the IBAN in %j', (text, account) => {
    expect(found(text)).toEqual([['iban', account]]);
  });

  it('keeps capitals and digits only as the value', () => {
    expect(findPii('DE89 3704 0044 0532 0130 00')[0]?.value).toBe(iban);
  });

  it.each([
    ['a wrong check digit', 'DE88370400440532013000'],
    ['a wrong check digit, grouped', 'DE89 3704 0044 0532 0130 01'],
    ['too short', 'DE89 3704 0044'],
    ['inside a word', `x${iban}`],
  ])('leaves an IBAN-like text alone with %s', (_why, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('findPii: several at once', () => {
  it('finds each datum once, the earlier one winning an overlap', () => {
    const text = `a@b.io, +49 30 1234567, ${visa}, ${iban}; +15551234567@example.com`;
    expect(found(text)).toEqual([
      ['email', 'a@b.io'],
      ['phone', '+49 30 1234567'],
      ['card', visa],
      ['iban', iban],
      ['email', '+15551234567@example.com'],
    ]);
  });
});

describe('piiOpenStart', () => {
  it.each([
    ['progress 50%', 12],
    ['done. ', 6],
    ['mail to john', 8],
    ['mail to john@exa', 8],
    ['call +49 30 12', 5],
    ['card 4111 1111', 5],
    ['IBAN DE8', 5],
    ['[=====]', 7],
  ])('in %j the end that may still grow begins at %i', (text, open) => {
    expect(piiOpenStart(text)).toBe(open);
  });

  it('never reaches further back than the longest datum', () => {
    expect(piiOpenStart('a'.repeat(10_000))).toBeGreaterThanOrEqual(10_000 - PII_MAX_MATCH_LENGTH);
    expect(piiOpenStart('a@' + 'b'.repeat(10_000))).toBeGreaterThanOrEqual(
      10_002 - PII_MAX_MATCH_LENGTH,
    );
  });
});

describe('findPii: hostile lines', () => {
  const MB = 1024 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

  // Each line keeps starting something that looks like a datum and failing late; a scanner that
  // backtracks or rescans would take minutes. The timeout catches that; the result is checked too.
  it.each([
    ['at signs', fill('a@')],
    ['one long local part and domain', `${fill('a')}@${fill('b')}`],
    ['dotted domains without a TLD', `x@${fill('a.')}`],
    ['digits', fill('1')],
    ['single digits and spaces', fill('2 ')],
    ['digit pairs and dashes', fill('41-')],
    ['plus signs and digits', fill('+1 ')],
    ['parentheses', fill('(555) ')],
    ['IBAN starts', fill('AB12 ')],
    ['capitals and digits', fill('DE89')],
    ['dots and digits', fill('1.')],
  ])('stays linear on 1 MB of %s', { timeout: 5_000 }, (_name, line) => {
    expect(findPii(line)).toEqual([]);
    expect(piiOpenStart(line)).toBeGreaterThanOrEqual(line.length - PII_MAX_MATCH_LENGTH);
  });

  it('finds every address in 1 MB of back-to-back addresses', { timeout: 5_000 }, () => {
    const unit = 'ab@cd.io ';
    const line = fill(unit);
    expect(findPii(line)).toHaveLength(Math.floor(MB / unit.length));
  });

  it('finds every card in 1 MB of card numbers', { timeout: 5_000 }, () => {
    const unit = `${visa} `;
    // The last, cut-off unit still holds a whole number.
    expect(findPii(fill(unit))).toHaveLength(Math.ceil(MB / unit.length));
  });
});
