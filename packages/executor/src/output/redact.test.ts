import { describe, expect, it } from 'vitest';
import { PATTERN_REACH_CAP } from './pattern-reach.ts';
import { createRedactor, findSecrets, redactionMarker } from './redact.ts';

// Secret-shaped test values are built at run time so no scanner mistakes this file for a leak.
const awsKeyId = 'AKIA' + 'IOSFODNN7EXAMPLE';
const awsSessionKeyId = 'ASIA' + 'ABCDEFGHIJ234567';
const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
const githubToken = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const githubPat = 'github_pat_' + '11ABCDEFG0abcdefghijkl_' + 'x'.repeat(59);
const slackToken = 'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const slackWebhook =
  'https://hooks.slack.com/services/' + 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const jwt =
  'eyJhbGciOiJIUzI1NiJ9' +
  '.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('createRedactor().redact', () => {
  const { redact } = createRedactor();

  it('leaves ordinary text alone', () => {
    expect(redact('hello world, nothing secret here: AKIA is a prefix')).toEqual({
      text: 'hello world, nothing secret here: AKIA is a prefix',
      redactions: 0,
    });
  });

  it.each([
    ['aws-access-key-id', awsKeyId],
    ['aws-access-key-id', awsSessionKeyId],
    ['github-token', githubToken],
    ['github-token', 'gho_' + 'x'.repeat(36)],
    ['github-token', 'ghu_' + 'x'.repeat(36)],
    ['github-token', 'ghs_' + 'x'.repeat(36)],
    ['github-token', 'ghr_' + 'x'.repeat(36)],
    ['github-token', githubPat],
    ['slack-token', slackToken],
    ['slack-token', 'xoxp-' + '1234567890-abcdef'],
    ['slack-webhook', slackWebhook],
  ])('replaces a %s with its marker', (kind, secret) => {
    expect(redact(`token=${secret} end`)).toEqual({
      text: `token=[REDACTED:${kind}] end`,
      redactions: 1,
    });
  });

  it('does not take a longer word for an AWS key id', () => {
    expect(redact(`X${awsKeyId}`).redactions).toBe(0);
    expect(redact(`${awsKeyId}9`).redactions).toBe(0);
    expect(redact('AKIA' + 'abcdefghijklmnop').redactions).toBe(0);
  });

  it('redacts an AWS secret key only where its name says what it is', () => {
    expect(redact(`aws_secret_access_key = ${awsSecret}`).text).toBe(
      'aws_secret_access_key = [REDACTED:aws-secret-access-key]',
    );
    expect(redact(`export AWS_SECRET_ACCESS_KEY="${awsSecret}"`).text).toBe(
      'export AWS_SECRET_ACCESS_KEY="[REDACTED:aws-secret-access-key]"',
    );
    expect(redact(`{"awsSecretAccessKey": "${awsSecret}"}`).text).toBe(
      '{"awsSecretAccessKey": "[REDACTED:aws-secret-access-key]"}',
    );
    // Forty base64 characters with no name beside them could be anything: a hash, an id.
    expect(redact(`checksum ${awsSecret}`).redactions).toBe(0);
    // Too long to be a secret key.
    expect(redact(`aws_secret_access_key=${awsSecret}A`).redactions).toBe(0);
  });

  it('redacts the token of an Authorization header and keeps the header', () => {
    expect(redact('Authorization: Bearer abc.def-123').text).toBe(
      'Authorization: Bearer [REDACTED:bearer-token]',
    );
    expect(redact('authorization: bearer xxx').text).toBe(
      'authorization: bearer [REDACTED:bearer-token]',
    );
    expect(redact(`{"Authorization": "Bearer ${jwt}"}`).text).toBe(
      '{"Authorization": "Bearer [REDACTED:bearer-token]"}',
    );
  });

  it('redacts a bare bearer token-like word but not prose', () => {
    expect(redact(`curl -H "bearer ${jwt}"`).text).toBe('curl -H "bearer [REDACTED:bearer-token]"');
    expect(redact('token: bearer 0123abcd').text).toBe('token: bearer [REDACTED:bearer-token]');
    expect(redact('the bearer of bad news, bearer information').redactions).toBe(0);
  });

  it('names the more specific kind when a bearer token is a GitHub token', () => {
    expect(redact(`Authorization: Bearer ${githubToken}`).text).toBe(
      'Authorization: Bearer [REDACTED:github-token]',
    );
  });

  it('redacts a whole private key block as one span', () => {
    const block = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEpAIBAAKCAQEA1234567890abcdef',
      'ghijklmnopqrstuvwx==',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    expect(redact(`key:\n${block}\nafter`)).toEqual({
      text: 'key:\n[REDACTED:private-key]\nafter',
      redactions: 1,
    });
  });

  it('redacts to the end of the text when a private key has no END', () => {
    expect(redact('before -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nmore').text).toBe(
      'before [REDACTED:private-key]',
    );
  });

  it('handles the PGP private key block form', () => {
    const block = '-----BEGIN PGP PRIVATE KEY BLOCK-----\nxyz\n-----END PGP PRIVATE KEY BLOCK-----';
    expect(redact(block).text).toBe('[REDACTED:private-key]');
  });

  it('leaves public keys and certificates alone', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const pub = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';
    expect(redact(`${cert}\n${pub}`).redactions).toBe(0);
  });

  it('redacts several secrets in one text and counts each', () => {
    expect(redact(`${awsKeyId} and ${githubToken} and ${slackToken}`)).toEqual({
      text: '[REDACTED:aws-access-key-id] and [REDACTED:github-token] and [REDACTED:slack-token]',
      redactions: 3,
    });
  });
});

describe('extra patterns', () => {
  it('redacts matches of configured patterns as custom, with or without the g flag', () => {
    const { redact } = createRedactor([/corp-[0-9]{6}/, /internal-[a-z]{4}/gi]);
    expect(redact('corp-123456 INTERNAL-abcd corp-123456')).toEqual({
      text: '[REDACTED:custom] [REDACTED:custom] [REDACTED:custom]',
      redactions: 3,
    });
  });

  it('survives a pattern that can match the empty string', () => {
    const { redact } = createRedactor([/x*/]);
    expect(redact('abxxc')).toEqual({ text: 'ab[REDACTED:custom]c', redactions: 1 });
  });

  it('merges a custom match that overlaps a built-in one into one marker', () => {
    const { redact } = createRedactor([/IOSFODNN7EXAMPLE-tail/]);
    expect(redact(`${awsKeyId}-tail end`)).toEqual({
      text: '[REDACTED:aws-access-key-id] end',
      redactions: 1,
    });
  });

  it('still redacts the built-in kinds', () => {
    expect(createRedactor([/nothing/]).redact(awsKeyId).text).toBe(
      redactionMarker('aws-access-key-id'),
    );
  });
});

describe('createRedactor().redactLine', () => {
  it('redacts every line of a private key block printed line by line', () => {
    const redactor = createRedactor();
    const lines = [
      'starting',
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      '',
      'bXlzZWNyZXRrZXk=',
      '-----END PRIVATE KEY----- trailing ' + githubToken,
      'done',
    ];
    const out = lines.map((line) => redactor.redactLine(line));
    expect(out.map((result) => result.text)).toEqual([
      'starting',
      '[REDACTED:private-key]',
      '[REDACTED:private-key]',
      '',
      '[REDACTED:private-key]',
      '[REDACTED:private-key] trailing [REDACTED:github-token]',
      'done',
    ]);
    expect(out.map((result) => result.redactions)).toEqual([0, 1, 1, 0, 1, 2, 0]);
    expect(redactor.insidePrivateKey()).toBe(false);
  });

  it('keeps text before BEGIN and remembers the open block', () => {
    const redactor = createRedactor();
    expect(redactor.redactLine('key is -----BEGIN EC PRIVATE KEY-----').text).toBe(
      'key is [REDACTED:private-key]',
    );
    expect(redactor.insidePrivateKey()).toBe(true);
    expect(redactor.redactLine('MHcCAQEEIB').text).toBe('[REDACTED:private-key]');
  });

  it('keeps separate state per redactor, so streams do not mix', () => {
    const stdout = createRedactor();
    const stderr = createRedactor();
    stdout.redactLine('-----BEGIN PRIVATE KEY-----');
    expect(stderr.redactLine('warning: x').text).toBe('warning: x');
    expect(stdout.redactLine('warning: x').text).toBe('[REDACTED:private-key]');
  });

  it('redact() stays stateless even while a line-mode block is open', () => {
    const redactor = createRedactor();
    redactor.redactLine('-----BEGIN PRIVATE KEY-----');
    expect(redactor.redact('plain').text).toBe('plain');
  });
});

describe('findSecrets', () => {
  it('returns sorted spans that cover the secret only', () => {
    const text = `a=${githubToken}; aws_secret_access_key: ${awsSecret}`;
    const spans = findSecrets(text);
    expect(spans.map((span) => [span.kind, text.slice(span.start, span.end)])).toEqual([
      ['github-token', githubToken],
      ['aws-secret-access-key', awsSecret],
    ]);
  });
});

describe('hostile input', () => {
  const MB = 1024 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

  // Each line repeats a prefix that starts a match and then fails or barely succeeds; with an
  // unbounded or nested pattern any of these would take minutes. The assertions check behaviour;
  // the test timeout catches a regression into backtracking.
  it.each([
    ['letters', fill('a'), 0],
    ['AWS prefixes', fill('AKIA'), 0],
    ['GitHub prefixes', fill('ghp_'), 0],
    ['Slack prefixes', fill('xoxb'), 0],
    ['secret key names', fill('aws_secret_access_key='), 0],
    ['bearer words', fill('bearer '), 0],
    ['authorization headers', fill('Authorization: Bearer'), 0],
    ['BEGIN markers without END', fill('-----BEGIN RSA '), 0],
    ['END markers', fill('-----END RSA PRIVATE KEY-----'), 0],
    ['base64 runs', fill('AbCd0123/+'), 0],
  ])('stays linear on 1 MB of %s', (_name, line, redactions) => {
    const result = createRedactor().redactLine(line);
    expect(result.redactions).toBe(redactions);
    expect(result.text).toBe(line);
  });

  it('redacts everything after a BEGIN in a 1 MB line of BEGIN markers', () => {
    const line = fill('-----BEGIN PRIVATE KEY-----');
    expect(createRedactor().redact(line)).toEqual({
      text: '[REDACTED:private-key]',
      redactions: 1,
    });
  });

  it('redacts every token in 1 MB of back-to-back Slack tokens', () => {
    const token = 'xoxb-1234567890 ';
    const line = fill(token);
    const result = createRedactor().redact(line);
    expect(result.redactions).toBe(Math.floor(MB / token.length));
    expect(result.text).not.toContain('xoxb-1234567890');
  });
});

describe('createRedactor().lineFilter: secrets printed in pieces', () => {
  /** Feeds `pieces` as one line (the last one ends it) and returns what each write showed. */
  function feed(pieces: readonly string[], redactor = createRedactor()): string[] {
    const filter = redactor.lineFilter();
    return pieces.map((piece, index) => filter.write(piece, index === pieces.length - 1));
  }
  const half = githubToken.length / 2;

  it('redacts a token printed in two pieces and shows none of it early', () => {
    const shown = feed([`token: ${githubToken.slice(0, half)}`, `${githubToken.slice(half)} ok`]);
    expect(shown).toEqual(['token: ', '[REDACTED:github-token] ok']);
  });

  it('redacts a token printed in three pieces', () => {
    const shown = feed(['x ghp', `_${githubToken.slice(4, 20)}`, `${githubToken.slice(20)}`]);
    expect(shown).toEqual(['x ', '', '[REDACTED:github-token]']);
  });

  it('shows at once the text that cannot begin a secret', () => {
    const filter = createRedactor().lineFilter();
    expect(filter.write('progress 10%', false)).toBe('progress 10%');
    expect(filter.write(' 20%', false)).toBe(' 20%');
    expect(filter.held()).toBe(0);
    // "g" may begin "ghp_": it waits, and shows as soon as it cannot.
    expect(filter.write(' g', false)).toBe(' ');
    expect(filter.write('o', false)).toBe('go');
  });

  it('waits after a complete token until it cannot grow, so no tail of a longer one shows', () => {
    const longer = githubToken + 'ZZZZ';
    const shown = feed([githubToken, 'ZZZZ', ' done']);
    expect(shown.join('')).toBe('[REDACTED:github-token] done');
    expect(shown.join('')).not.toContain('ZZZZ');
    expect(createRedactor().redact(longer).text).toBe('[REDACTED:github-token]');
  });

  it('keeps the name beside an AWS secret key even when the name is split', () => {
    const shown = feed([
      'export AWS_SECRET_AC',
      `CESS_KEY="${awsSecret.slice(0, 9)}`,
      `${awsSecret.slice(9)}"`,
    ]);
    expect(shown.join('')).toBe('export AWS_SECRET_ACCESS_KEY="[REDACTED:aws-secret-access-key]"');
    expect(shown[0]).toBe('export ');
  });

  it('gives, for every way of cutting a line in two or three, the text of the whole line', () => {
    const redactor = createRedactor([/internal-[0-9]{4}/]);
    const line =
      `a=${githubToken} b=${awsKeyId} Authorization: Bearer ${jwt} x ${slackToken}` +
      ` aws_secret_access_key=${awsSecret} internal-1234 ${slackWebhook} end`;
    const whole = redactor.redact(line).text;
    expect(whole).not.toContain('internal-1234');
    for (let cut = 0; cut <= line.length; cut++) {
      expect(feed([line.slice(0, cut), line.slice(cut)], redactor).join('')).toBe(whole);
    }
    for (let first = 0; first <= line.length; first += 5) {
      for (let second = first; second <= line.length; second += 7) {
        const pieces = [line.slice(0, first), line.slice(first, second), line.slice(second)];
        expect(feed(pieces, redactor).join('')).toBe(whole);
      }
    }
  });

  it('redacts a private key block whose markers are split, showing the body as markers at once', () => {
    const filter = createRedactor().lineFilter();
    const shown = [
      filter.write('key: -----BEGIN RSA PRIV', false),
      filter.write('ATE KEY-----MIIEowIBAAKCAQEA', false),
      filter.write('75aJ3jkIDQ', false),
      filter.write('-----END RSA', false),
      filter.write(' PRIVATE KEY----- after', true),
    ];
    expect(shown[0]).toBe('key: ');
    expect(shown[1]).toBe('[REDACTED:private-key]');
    expect(shown[2]).toBe('[REDACTED:private-key]');
    expect(shown.join('')).not.toMatch(/MIIE|75aJ|BEGIN|END/);
    expect(shown.at(-1)?.endsWith(' after')).toBe(true);
  });

  it('remembers an open private key block across lines', () => {
    const filter = createRedactor().lineFilter();
    expect(filter.write('-----BEGIN PRIVATE KEY-----', true)).toBe('[REDACTED:private-key]');
    expect(filter.write('MIIEvQIBADANBg', false)).toBe('[REDACTED:private-key]');
    expect(filter.write('kqhkiG9w0BAQEFAASC', true)).toBe('[REDACTED:private-key]');
    expect(filter.write('-----END PRIVATE KEY-----', true)).toBe('[REDACTED:private-key]');
    expect(filter.write('plain', true)).toBe('plain');
  });

  it('holds back a bounded amount, whatever the input', () => {
    const redactor = createRedactor();
    const filter = redactor.lineFilter();
    filter.write('-----BEGIN PRIVATE KEY-----', false);
    for (let piece = 0; piece < 1000; piece++) {
      expect(filter.write('A'.repeat(1000), false)).toBe('[REDACTED:private-key]');
      expect(filter.held()).toBeLessThanOrEqual(redactor.maxMatchLength);
    }
  });

  it('holds a match of an unbounded configured pattern back for at most the cap', () => {
    const redactor = createRedactor([/internal-[0-9]+/]);
    expect(redactor.maxMatchLength).toBe(PATTERN_REACH_CAP);
    const filter = redactor.lineFilter();
    filter.write('internal-', false);
    for (let piece = 0; piece < 50; piece++) {
      filter.write('1'.repeat(1000), false);
      expect(filter.held()).toBeLessThanOrEqual(PATTERN_REACH_CAP);
    }
    // Short matches, the usual case, are redacted whole however they are split.
    const short = redactor.lineFilter();
    expect(short.write('id internal-12', false) + short.write('34 ok', true)).toBe(
      'id [REDACTED:custom] ok',
    );
  });

  it('knows the longest text its patterns can span', () => {
    const { maxMatchLength } = createRedactor();
    // The Authorization header's token may be 4,096 characters, the header's words around it more.
    expect(maxMatchLength).toBeGreaterThan(4096);
    expect(maxMatchLength).toBeLessThan(PATTERN_REACH_CAP);
    expect(createRedactor([/x{1,10}/]).maxMatchLength).toBe(maxMatchLength);
  });
});

describe('hostile input in pieces', () => {
  const MB = 1024 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

  // Flushed in 1 KiB pieces, every piece ends in something that may begin a secret; the filter
  // must still hold back only a bounded tail and finish in linear time.
  it.each([
    ['GitHub prefixes', fill('ghp_')],
    ['token characters after a prefix', 'ghp_' + fill('a')],
    ['AWS prefixes', fill('AKIA')],
    ['bearer words', fill('bearer ')],
    ['authorization headers', fill('Authorization: Bearer')],
    ['secret key names', fill('aws_secret_access_key=')],
    ['BEGIN markers without END', fill('-----BEGIN RSA ')],
    ['letters', fill('a')],
  ])('stays linear on 1 MB of %s', { timeout: 5_000 }, (_name, line) => {
    const redactor = createRedactor();
    const filter = redactor.lineFilter();
    let shown = '';
    for (let start = 0; start < line.length; start += 1024) {
      shown += filter.write(line.slice(start, start + 1024), false);
      expect(filter.held()).toBeLessThanOrEqual(2 * redactor.maxMatchLength);
    }
    shown += filter.write('', true);
    expect(shown).toBe(redactor.redact(line).text);
  });
});
