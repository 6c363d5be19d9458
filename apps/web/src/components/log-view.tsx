'use client';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { styleToCss } from '@/lib/ansi';
import type { LogLine, LogStore } from '@/lib/log-store';

const LINE_HEIGHT = 20;
/** A compact log (a notebook cell's) grows with its lines up to this many, then scrolls. */
const COMPACT_LINES = 14;

function LineText({ line }: { line: LogLine }) {
  if (!line.segments) return <span className="log-text">{line.text}</span>;
  return (
    <span className="log-text">
      {line.segments.map((segment, i) =>
        segment.style ? (
          <span key={i} style={styleToCss(segment.style)}>
            {segment.text}
          </span>
        ) : (
          <span key={i}>{segment.text}</span>
        ),
      )}
    </span>
  );
}

export function LogView(props: {
  store: LogStore;
  runId: string;
  live: boolean;
  emptyText: string;
  /** The log's accessible name; several logs on one page (a notebook's cells) need their own. */
  label?: string;
  /** Sized to its lines (a few), without search or download: a notebook cell's output. */
  compact?: boolean;
}) {
  const { store, compact = false } = props;
  const searchId = useId();
  useSyncExternalStore(store.subscribe, store.getVersion, store.getVersion);
  const count = store.lines.length;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const lastTop = useRef(0);
  const [query, setQuery] = useState('');
  const [matchIndex, setMatchIndex] = useState(0);
  const [copied, setCopied] = useState<string | null>(null);

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => LINE_HEIGHT,
    overscan: 30,
  });

  // Follow: keep the newest line in view while on.
  useLayoutEffect(() => {
    if (!follow || count === 0) return;
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, follow, store.version]);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < LINE_HEIGHT;
    if (el.scrollTop < lastTop.current - 2 && !atBottom) setFollow(false);
    else if (atBottom) setFollow(true);
    lastTop.current = el.scrollTop;
  }, []);

  // A gesture that goes to the end turns following on by what it asks for: its scroll events
  // alone can miss the end, since lines that arrive while it scrolls move the end further (End
  // scrolls smoothly to where the end was when the key was pressed).
  const onWheel = useCallback((e: React.WheelEvent<HTMLDivElement>) => {
    const el = scrollRef.current;
    if (!el || e.deltaY <= 0) return;
    const unit = e.deltaMode === 1 ? LINE_HEIGHT : e.deltaMode === 2 ? el.clientHeight : 1;
    const left = el.scrollHeight - el.scrollTop - el.clientHeight;
    if (e.deltaY * unit >= left - LINE_HEIGHT) setFollow(true);
  }, []);
  const onKeyDown = useCallback((e: React.KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'End') setFollow(true);
  }, []);

  const matches = useMemo(() => {
    if (!query) return [] as number[];
    const needle = query.toLowerCase();
    const found: number[] = [];
    store.lines.forEach((line, i) => {
      if (line.text.toLowerCase().includes(needle)) found.push(i);
    });
    return found;
    // store.version: recompute as lines arrive
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deliberately not every dependency
  }, [query, store, store.version]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const current = matches.length ? matches[Math.min(matchIndex, matches.length - 1)] : undefined;

  const goTo = (delta: number) => {
    if (!matches.length) return;
    const next = (matchIndex + delta + matches.length) % matches.length;
    setMatchIndex(next);
    setFollow(false);
    virtualizer.scrollToIndex(matches[next]!, { align: 'center' });
  };
  useEffect(() => {
    setMatchIndex(0);
    if (matches.length) {
      setFollow(false);
      virtualizer.scrollToIndex(matches[0]!, { align: 'center' });
    }
    // only when the query changes
    // eslint-disable-next-line react-hooks/exhaustive-deps -- deliberately not every dependency
  }, [query]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(store.toText());
      setCopied('Copied');
    } catch {
      setCopied('Copy failed');
    }
    setTimeout(() => setCopied(null), 1500);
  };
  const download = () => {
    const url = URL.createObjectURL(
      new Blob([store.toText()], { type: 'text/plain;charset=utf-8' }),
    );
    const a = document.createElement('a');
    a.href = url;
    a.download = `run-${props.runId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const items = virtualizer.getVirtualItems();

  return (
    <section className={compact ? 'log compact' : 'log'} aria-label={props.label ?? 'Output'}>
      <div
        className="log-toolbar"
        role="toolbar"
        aria-label={props.label ? `${props.label}: tools` : 'Log tools'}
      >
        {!compact && (
          <>
            <label htmlFor={searchId} className="visually-hidden">
              Search the log
            </label>
            <input
              id={searchId}
              type="search"
              placeholder="Search…"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  goTo(e.shiftKey ? -1 : 1);
                }
              }}
            />
            {query && (
              <>
                <span className="small muted" aria-live="polite">
                  {matches.length
                    ? `${Math.min(matchIndex, matches.length - 1) + 1} of ${matches.length}`
                    : 'no match'}
                </span>
                <button
                  type="button"
                  onClick={() => goTo(-1)}
                  disabled={!matches.length}
                  aria-label="Previous match"
                >
                  ↑
                </button>
                <button
                  type="button"
                  onClick={() => goTo(1)}
                  disabled={!matches.length}
                  aria-label="Next match"
                >
                  ↓
                </button>
              </>
            )}
          </>
        )}
        {(!compact || props.live) && (
          <button
            type="button"
            className="follow-toggle"
            aria-pressed={follow}
            onClick={() => {
              const next = !follow;
              setFollow(next);
              if (next && scrollRef.current)
                scrollRef.current.scrollTop = scrollRef.current.scrollHeight;
            }}
            title="Keep the newest line in view"
          >
            <span className={`follow-dot${follow ? ' on' : ''}`} aria-hidden="true" />
            {follow ? 'Following' : 'Follow'}
          </button>
        )}
        <button type="button" onClick={() => void copy()} disabled={!count}>
          {copied ?? 'Copy'}
        </button>
        {!compact && (
          <button type="button" onClick={download} disabled={!count}>
            Download
          </button>
        )}
        <span className="log-count" data-testid="line-count" aria-live="off">
          {count.toLocaleString('en')} {count === 1 ? 'line' : 'lines'}
        </span>
      </div>
      <div
        ref={scrollRef}
        className="log-scroll"
        style={
          compact
            ? { height: Math.min(Math.max(count, 1), COMPACT_LINES) * LINE_HEIGHT + 16 }
            : undefined
        }
        onScroll={onScroll}
        onWheel={onWheel}
        onKeyDown={onKeyDown}
        tabIndex={0}
        role="log"
        aria-label={props.label ?? 'Run output'}
        aria-live="off"
        data-testid="log"
      >
        {count === 0 ? (
          <div className="log-empty">{props.emptyText}</div>
        ) : (
          <div
            style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth: '100%' }}
          >
            {items.map((item) => {
              const line = store.lines[item.index]!;
              const classes = ['log-line', line.stream];
              if (matchSet.has(item.index)) classes.push('match');
              if (item.index === current) classes.push('current-match');
              return (
                <div
                  key={item.key}
                  className={classes.join(' ')}
                  data-stream={line.stream}
                  style={{ height: LINE_HEIGHT, transform: `translateY(${item.start}px)` }}
                >
                  <span className="log-gutter">{item.index + 1}</span>
                  <span
                    className="log-stream"
                    title={line.stream}
                    aria-label={line.stream === 'stderr' ? 'stderr' : undefined}
                  >
                    {line.stream === 'stderr' ? '!' : ''}
                  </span>
                  <LineText line={line} />
                </div>
              );
            })}
          </div>
        )}
      </div>
      {store.truncated && (
        <div className="log-notice" role="status">
          Output cut off: the run passed its limit of{' '}
          {store.truncated.reason === 'lines'
            ? `${store.truncated.limit.toLocaleString('en')} lines`
            : `${store.truncated.limit.toLocaleString('en')} bytes`}
          {store.truncated.droppedBytes
            ? ` (${store.truncated.droppedBytes.toLocaleString('en')} bytes dropped)`
            : ''}
          .
        </div>
      )}
    </section>
  );
}
