import { describe, expect, it } from 'vitest';
import { PII_MAX_MATCH_LENGTH } from './pii-detect.ts';
import { createPiiFilter, createPiiTokens } from './pii-filter.ts';

const visa = '4111111111111111';
const iban = 'DE89370400440532013000';

/** One line through a fresh filter, in the pieces given (the last one ends the line). */
function feed(pieces: readonly string[], tokens = createPiiTokens()): string[] {
  const filter = createPiiFilter(tokens);
  return pieces.map((piece, index) => filter.write(piece, index === pieces.length - 1));
}

describe('createPiiFilter', () => {
  it('replaces each kind with its token', () => {
    const [shown] = feed([
      `mail ann@example.com, call +49 30 1234567, card 4111 1111 1111 1111, IBAN ${iban}.`,
    ]);
    expect(shown).toBe('mail <EMAIL_1>, call <PHONE_1>, card <CARD_1>, IBAN <IBAN_1>.');
  });

  it('gives the same datum the same token for the whole run, lines and streams alike', () => {
    const tokens = createPiiTokens();
    const stdout = createPiiFilter(tokens);
    const stderr = createPiiFilter(tokens);
    expect(stdout.write('from ann@example.com to bob@example.com', true)).toBe(
      'from <EMAIL_1> to <EMAIL_2>',
    );
    expect(stderr.write('bounce: Ann@Example.com', true)).toBe('bounce: <EMAIL_1>');
    expect(stdout.write(`paid with ${visa} and 4111-1111-1111-1111`, true)).toBe(
      'paid with <CARD_1> and <CARD_1>',
    );
    expect(stdout.write('bob@example.com again', true)).toBe('<EMAIL_2> again');
    expect(tokens.size()).toBe(3);
  });

  it('leaves numbers alone that fail their check', () => {
    const line = 'card 4111 1111 1111 1112, IBAN DE88370400440532013000, order 1700000000000';
    expect(feed([line])).toEqual([line]);
  });

  it('tokenizes an address printed in pieces and shows none of it early', () => {
    const shown = feed(['user: ann.l', 'ee@exam', 'ple.com logged in']);
    expect(shown).toEqual(['user: ', '', '<EMAIL_1> logged in']);
  });

  it('tokenizes a card number printed in three pieces', () => {
    const shown = feed(['paid 4111 11', '11 1111 ', '1111 ok']);
    expect(shown.join('')).toBe('paid <CARD_1> ok');
    expect(shown.slice(0, 2).join('')).toBe('paid ');
  });

  it('shows text that cannot begin a datum at once', () => {
    const filter = createPiiFilter(createPiiTokens());
    expect(filter.write('[=====>    ] 50%', false)).toBe('[=====>    ] 50%');
    expect(filter.held()).toBe(0);
  });

  it('stops numbering after the cap but still hides new data', () => {
    const tokens = createPiiTokens(2);
    const filter = createPiiFilter(tokens);
    expect(filter.write('a@example.com b@example.com c@example.com a@example.com', true)).toBe(
      '<EMAIL_1> <EMAIL_2> <EMAIL> <EMAIL_1>',
    );
    expect(tokens.size()).toBe(2);
  });

  it('holds back a bounded amount on a hostile stream', { timeout: 5_000 }, () => {
    const filter = createPiiFilter(createPiiTokens());
    for (const unit of ['a@', '1', '2 ', 'AB12 ', 'x.']) {
      for (let piece = 0; piece < 200; piece++) {
        filter.write(unit.repeat(Math.ceil(1024 / unit.length)), false);
        expect(filter.held()).toBeLessThanOrEqual(2 * PII_MAX_MATCH_LENGTH);
      }
    }
    filter.write('', true);
    expect(filter.held()).toBe(0);
  });
});
