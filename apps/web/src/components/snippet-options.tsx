'use client';
import { useState } from 'react';
import type { SnippetOptionInputs } from '@/lib/snippet-options';

/**
 * A snippet's interactive and terminal switches (visible: they change what the run page offers),
 * and under "More options" its arguments, extra variables and expected output.
 */
export function SnippetOptions(props: {
  inputs: SnippetOptionInputs;
  onChange: (inputs: SnippetOptionInputs) => void;
  argsError: string | null;
  envError: string | null;
  expectedError: string | null;
}) {
  const { inputs } = props;
  const [open, setOpen] = useState(false);
  const set = (patch: Partial<SnippetOptionInputs>) => props.onChange({ ...inputs, ...patch });
  const problems = props.argsError ?? props.envError ?? props.expectedError;
  return (
    <div className="stack">
      <div className="field">
        <label htmlFor="snippet-interactive" style={{ fontWeight: 400 }}>
          <input
            id="snippet-interactive"
            type="checkbox"
            // A terminal run is always interactive: its terminal takes the typing.
            checked={inputs.interactive || inputs.tty}
            disabled={inputs.tty}
            onChange={(e) => set({ interactive: e.target.checked })}
            aria-describedby="snippet-interactive-hint"
          />{' '}
          <strong>Interactive</strong>: keep its input open while it runs
        </label>
        <span id="snippet-interactive-hint" className="hint small">
          The run page then has an input box: type the lines the program asks for (an{' '}
          <code>input()</code> prompt), close its input, or send it SIGINT.
        </span>
      </div>
      <div className="field">
        <label htmlFor="snippet-tty" style={{ fontWeight: 400 }}>
          <input
            id="snippet-tty"
            type="checkbox"
            checked={inputs.tty}
            onChange={(e) => set({ tty: e.target.checked })}
            aria-describedby="snippet-tty-hint"
          />{' '}
          <strong>Run in a terminal (tty)</strong>: the program sees a terminal
        </label>
        <span id="snippet-tty-hint" className="hint small">
          The run page shows a terminal sized to the window: what you type goes to the program key
          by key (Ctrl-C interrupts it), and colours, prompts and line editing work as in a
          terminal. Implies interactive. Its stdout and stderr come as one stream.
        </span>
      </div>
      <details
        className="advanced"
        open={
          open ||
          problems !== null ||
          inputs.argsText !== '' ||
          inputs.envText !== '' ||
          inputs.expectedOutput !== ''
        }
        onToggle={(e) => setOpen(e.currentTarget.open)}
      >
        <summary>
          Arguments, environment and expected output <span className="hint">(optional)</span>
        </summary>
        <div className="grid-2" style={{ marginTop: 'var(--space-3)' }}>
          <div className="field">
            <label htmlFor="snippet-args">
              Arguments <span className="hint">one per line</span>
            </label>
            <textarea
              id="snippet-args"
              rows={2}
              value={inputs.argsText}
              onChange={(e) => set({ argsText: e.target.value })}
              aria-invalid={props.argsError !== null}
              spellCheck={false}
            />
            {props.argsError && (
              <span className="field-error" role="alert">
                {props.argsError}
              </span>
            )}
          </div>
          <div className="field">
            <label htmlFor="snippet-env">
              Environment variables <span className="hint">NAME=value, one per line</span>
            </label>
            <textarea
              id="snippet-env"
              rows={2}
              value={inputs.envText}
              onChange={(e) => set({ envText: e.target.value })}
              aria-invalid={props.envError !== null}
              spellCheck={false}
            />
            {props.envError && (
              <span className="field-error" role="alert">
                {props.envError}
              </span>
            )}
          </div>
          <div className="field">
            <label htmlFor="snippet-expected">
              Expected output{' '}
              <span className="hint">the run page says whether stdout matched it</span>
            </label>
            <textarea
              id="snippet-expected"
              rows={3}
              value={inputs.expectedOutput}
              onChange={(e) => set({ expectedOutput: e.target.value })}
              aria-invalid={props.expectedError !== null}
              spellCheck={false}
            />
            {props.expectedError && (
              <span className="field-error" role="alert">
                {props.expectedError}
              </span>
            )}
          </div>
        </div>
      </details>
    </div>
  );
}
