import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunEventInput } from './run-events.ts';
import { createOutputPipeline } from './output-pipeline.ts';

function setup(overrides: { maxLines?: number } = {}) {
  const events: RunEventInput[] = [];
  const pipeline = createOutputPipeline({
    maxLineBytes: 1024,
    maxLines: overrides.maxLines ?? 1000,
    partialFlushMs: 100,
    redactPatterns: [/internal-[0-9]{4}/],
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
});
