'use client';
import { useId } from 'react';
import type { EnvironmentChoice } from '@/lib/environments';

/**
 * The dependency environment of a new run, one radio per choice: none, a project's own manifests
 * (an uploaded project's tool run), and the server's named environments with their packages. A
 * choice that cannot work on this server is shown disabled with the reason, naming what the
 * operator would set; the server checks again when the run is created.
 */
export function EnvironmentField(props: {
  choices: readonly EnvironmentChoice[];
  /** The value picked, already none when the pick is not among the choices. */
  value: string;
  onChange: (value: string) => void;
  /** Why the server's environments could not be loaded (only none is offered then). */
  loadError: string | null;
}) {
  const base = useId();
  return (
    <fieldset
      className="tool-args"
      aria-describedby={`${base}-about`}
      data-testid="environment-field"
    >
      <legend>Environment</legend>
      <p id={`${base}-about`} className="muted small" style={{ marginTop: 0 }}>
        Packages installed in the sandbox before the run, for it to import. The install’s output
        shows in the run’s log.
      </p>
      {props.loadError && (
        <p className="field-error" role="alert">
          Could not load this server’s environments: {props.loadError}
        </p>
      )}
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} className="stack">
        {props.choices.map((choice, index) => {
          const id = `${base}-choice-${index}`;
          const aboutId = `${id}-about`;
          const disabled = choice.unavailable !== null;
          const described = choice.detail !== null || choice.packages !== null || disabled;
          return (
            <li key={choice.value} data-environment={choice.value || 'none'}>
              <label htmlFor={id} style={{ fontWeight: 400 }}>
                <input
                  id={id}
                  type="radio"
                  name={`${base}-environment`}
                  value={choice.value}
                  checked={props.value === choice.value}
                  disabled={disabled}
                  onChange={() => props.onChange(choice.value)}
                  {...(described ? { 'aria-describedby': aboutId } : {})}
                />{' '}
                <strong>{choice.label}</strong>
              </label>
              {described && (
                <div id={aboutId} className="muted small" style={{ marginLeft: '1.6em' }}>
                  {choice.detail && <div>{choice.detail}</div>}
                  {choice.packages && <div className="mono">{choice.packages}</div>}
                  {choice.unavailable && (
                    <div data-testid="environment-unavailable">{choice.unavailable}</div>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
