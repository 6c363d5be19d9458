'use client';
import { useState } from 'react';

/**
 * The optional callback URL of a new run (docs/callbacks.md), folded away until asked for. The
 * server judges the URL (its shape, the addresses it may call, whether it has a secret to sign
 * with); a refusal is shown here, under the field, and opens the fold.
 */
export function CallbackField(props: {
  value: string;
  onChange: (value: string) => void;
  /** The server's message about the URL last sent; null when it took it or nothing was sent. */
  error: string | null;
}) {
  const [open, setOpen] = useState(false);
  const hintId = 'callback-url-hint';
  const errorId = 'callback-url-error';
  return (
    <details
      className="advanced"
      open={open || props.error !== null}
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>
        Callback {/* Folded with a URL in it, the URL still shows: the run will call it. */}
        <span className="hint delivery-url">({props.value.trim() || 'optional'})</span>
      </summary>
      <div className="field" style={{ maxWidth: 640, marginTop: 'var(--space-3)' }}>
        <label htmlFor="callback-url">Callback URL</label>
        <input
          id="callback-url"
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://ci.example.org/runbox-hook"
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          aria-invalid={props.error !== null}
          aria-describedby={props.error !== null ? `${errorId} ${hintId}` : hintId}
        />
        {props.error !== null && (
          <span id={errorId} className="field-error" role="alert">
            {props.error}
          </span>
        )}
        <span id={hintId} className="hint small">
          When the run ends, runbox POSTs its summary there, signed, and retries until it gets a
          2xx.
        </span>
      </div>
    </details>
  );
}
