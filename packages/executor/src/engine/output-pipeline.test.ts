import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEventInput } from './run-events.ts';
import { createOutputPipeline } from './output-pipeline.ts';

// Built at run time so no scanner mistakes this file for a leak.
const githubToken = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';

function setup(
  overrides: {
    maxLines?: number;
    maxLineBytes?: number;
    pii?: boolean;
    releaseHeldMs?: number;
  } = {},
) {
  const events: RunEventInput[] = [];
  const pipeline = createOutputPipeline({
    maxLineBytes: overrides.maxLineBytes ?? 1024,
    maxLines: overrides.maxLines ?? 1000,
    partialFlushMs: 100,
    redactPatterns: [/internal-[0-9]{4}/],
    ...(overrides.pii === undefined ? {} : { pii: overrides.pii }),
    releaseHeldMs: overrides.releaseHeldMs,
    emit: (event) => events.push(event),
  });
  const texts = () =>
    events.flatMap((e) =>
      e.type === 'output' ? [`${e.stream}:${e.text}${e.partial ? '~' : ''}`] : [],
    );
  return { events, pipeline, texts };
}

describe('output pipeline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('splits stdout and stderr apart and keeps their interleaving', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stdout', Buffer.from('a1\na'));
    pipeline.push('stderr', Buffer.from('e1\n'));
    pipeline.push('stdout', Buffer.from('2\n'));
    expect(texts()).toEqual(['stdout:a1', 'stderr:e1', 'stdout:a2']);
  });

  it('shows a line without newline after the flush deadline (a progress bar)', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stdout', Buffer.from('progress 10%'));
    expect(texts()).toEqual([]);
    vi.advanceTimersByTime(150);
    expect(texts()).toEqual(['stdout:progress 10%~']);
  });

  it('redacts secrets, built-in and configured, before any event leaves', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stdout', Buffer.from('key AKIAABCDEFGHIJKLMNOP and internal-1234\n'));
    expect(texts()[0]).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(texts()[0]).not.toContain('internal-1234');
    expect(texts()[0]).toContain('[REDACTED:');
  });

  it('stops at the line cap with a truncation event and says limit from then on', () => {
    const { pipeline, events } = setup({ maxLines: 3 });
    expect(pipeline.push('stdout', Buffer.from('1\n2\n3\n4\n5\n'))).toBe('limit');
    expect(events.filter((e) => e.type === 'output')).toHaveLength(3);
    expect(events.at(-1)).toEqual({
      type: 'truncated',
      reason: 'lines',
      limit: 3,
      droppedBytes: 0,
    });
    expect(pipeline.push('stdout', Buffer.from('more\n'))).toBe('limit');
    expect(pipeline.droppedAfterLimit()).toBe(5);
    expect(pipeline.lineLimitHit()).toBe(true);
  });

  it('flushes what is held at the end', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stderr', Buffer.from('no newline at the end'));
    pipeline.finish();
    expect(texts()).toEqual(['stderr:no newline at the end~']);
  });

  it('redacts a token printed in two writes further apart than the flush deadline', () => {
    const { pipeline, events, texts } = setup();
    pipeline.push('stdout', Buffer.from(`token: ${githubToken.slice(0, 20)}`));
    vi.advanceTimersByTime(300);
    expect(texts()).toEqual(['stdout:token: ~']);
    pipeline.push('stdout', Buffer.from(`${githubToken.slice(20)}\n`));
    expect(texts()).toEqual(['stdout:token: ~', 'stdout:[REDACTED:github-token]']);
    expect(events.at(-1)).toMatchObject({ partial: false, continuation: true });
    expect(JSON.stringify(events)).not.toContain(githubToken.slice(4, 20));
  });

  it('redacts a token printed in three writes, each after a deadline', () => {
    const { pipeline, texts } = setup();
    for (const piece of ['id ghp_', githubToken.slice(4, 22), `${githubToken.slice(22)} ok\n`]) {
      pipeline.push('stdout', Buffer.from(piece));
      vi.advanceTimersByTime(250);
    }
    expect(texts()).toEqual(['stdout:id ~', 'stdout:[REDACTED:github-token] ok']);
  });

  it('redacts a token that straddles the cut of a long line', () => {
    const { pipeline, texts } = setup({ maxLineBytes: 64 });
    const line = `${'x'.repeat(49)} ${githubToken} tail`;
    pipeline.push('stdout', Buffer.from(`${line}\n`));
    expect(texts()).toEqual([`stdout:${'x'.repeat(49)} ~`, 'stdout:[REDACTED:github-token] tail']);
    // Cut and flushed: the first 64 bytes arrive, the deadline passes, then the rest.
    const second = setup({ maxLineBytes: 64 });
    second.pipeline.push('stdout', Buffer.from(line.slice(0, 70)));
    vi.advanceTimersByTime(300);
    second.pipeline.push('stdout', Buffer.from(`${line.slice(70)}\n`));
    expect(second.texts().join('')).not.toContain(githubToken.slice(4, 10));
    expect(second.texts().at(-1)).toBe('stdout:[REDACTED:github-token] tail');
  });

  it('still shows after the deadline what cannot begin a secret, and the rest once it cannot', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stdout', Buffer.from('loading g'));
    vi.advanceTimersByTime(150);
    expect(texts()).toEqual(['stdout:loading ~']);
    pipeline.push('stdout', Buffer.from('one 50%'));
    vi.advanceTimersByTime(150);
    expect(texts()).toEqual(['stdout:loading ~', 'stdout:gone 50%~']);
  });

  it('on a terminal, shows what redaction holds once the stream is quiet: the last key typed', () => {
    const { pipeline, texts } = setup({ releaseHeldMs: 60 });
    pipeline.push('stdout', Buffer.from('name? g'));
    // The flush (100 ms) shows what cannot be a secret; 60 ms of quiet later, the rest.
    vi.advanceTimersByTime(250);
    // `g` could begin a GitHub token: held past the flush, shown once nothing more came.
    expect(texts()).toEqual(['stdout:name? ~', 'stdout:g~']);
    pipeline.push('stdout', Buffer.from('h'));
    vi.advanceTimersByTime(250);
    pipeline.push('stdout', Buffer.from('\r\n'));
    expect(texts().join('|')).toBe('stdout:name? ~|stdout:g~|stdout:h~|stdout:');
    // A token written in one piece is still redacted whole.
    pipeline.push('stdout', Buffer.from(`echo ${githubToken}\n`));
    expect(texts().at(-1)).toBe('stdout:echo [REDACTED:github-token]');
  });

  it('redacts what is held when the stream ends without a newline', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stderr', Buffer.from(`leaked ${githubToken}`));
    vi.advanceTimersByTime(150);
    expect(texts()).toEqual(['stderr:leaked ~']);
    pipeline.finish();
    expect(texts()).toEqual(['stderr:leaked ~', 'stderr:[REDACTED:github-token]~']);
  });

  it('leaves personal data alone unless asked', () => {
    const { pipeline, texts } = setup();
    pipeline.push('stdout', Buffer.from('mail ann@example.com\n'));
    expect(texts()).toEqual(['stdout:mail ann@example.com']);
  });

  it('with pii, gives each datum one token for the whole run, stdout and stderr alike', () => {
    const { pipeline, texts } = setup({ pii: true });
    pipeline.push('stdout', Buffer.from('from ann@example.com, card 4111 1111 1111 1111\n'));
    pipeline.push('stderr', Buffer.from('bounce ann@exa'));
    vi.advanceTimersByTime(150);
    pipeline.push('stderr', Buffer.from('mple.com\n'));
    expect(texts()).toEqual([
      'stdout:from <EMAIL_1>, card <CARD_1>',
      'stderr:bounce ~',
      'stderr:<EMAIL_1>',
    ]);
  });
});
