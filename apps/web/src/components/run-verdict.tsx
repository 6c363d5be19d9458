import type { RunView } from '@runbox/api';
import { verdictDifference, verdictWords } from '@/lib/verdict';

/** The verdict of a snippet sent with `expectedOutput`: passed, or its first differing line. */
export function RunVerdict({ verdict }: { verdict: NonNullable<RunView['verdict']> }) {
  const words = verdictWords(verdict);
  const difference = verdict.status === 'failed' ? verdictDifference(verdict) : null;
  return (
    <section
      className="card"
      style={{ marginTop: 'var(--space-4)' }}
      aria-labelledby="verdict-title"
      data-testid="verdict"
    >
      <div className="card-title">
        <h2 id="verdict-title">Verdict</h2>
        <span
          className={`badge tone-${words.tone}`}
          data-testid="verdict-status"
          data-status={verdict.status}
        >
          {words.label}
        </span>
      </div>
      {difference ? (
        <>
          <p className="small">
            The output and the expected output first differ at {difference.where} (whitespace at the
            end of a line and empty lines at the end do not count).
          </p>
          <dl className="kv verdict-lines">
            <dt>Expected</dt>
            <dd>
              {difference.expected !== null ? (
                <pre className="value-box" data-testid="verdict-expected">
                  {difference.expected}
                </pre>
              ) : (
                <span className="muted">{difference.expectedNote}</span>
              )}
            </dd>
            <dt>Printed</dt>
            <dd>
              {difference.actual !== null ? (
                <pre className="value-box" data-testid="verdict-actual">
                  {difference.actual}
                </pre>
              ) : (
                <span className="muted">{difference.actualNote}</span>
              )}
            </dd>
          </dl>
        </>
      ) : (
        <p className="small muted">Its standard output matched the expected output line by line.</p>
      )}
    </section>
  );
}
