'use client';
import { useId, useState } from 'react';
import {
  valueHint,
  type ArgumentInputs,
  type ToolArgumentsView,
  type ToolOptionView,
} from '@/lib/tool-arguments';

/** What the form needs of a tool from `tools.list`. */
export interface ToolForArguments {
  id: string;
  name: string;
  arguments?: ToolArgumentsView | undefined;
  detectedEnv?: { name: string; value: string; when: string[]; reason: string }[] | undefined;
}

function OptionField(props: {
  option: ToolOptionView;
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** Suggestions for a path or glob: the project's files. */
  listId: string | undefined;
}) {
  const { option, id } = props;
  const hintId = `${id}-hint`;
  if (option.value === null) {
    return (
      <div className="field tool-option">
        <label htmlFor={id} style={{ fontWeight: 400 }}>
          <input
            id={id}
            type="checkbox"
            checked={props.value === 'on'}
            onChange={(e) => props.onChange(e.target.checked ? 'on' : '')}
            aria-describedby={hintId}
          />{' '}
          <code>{option.name}</code>
        </label>
        <span id={hintId} className="hint small">
          {option.description}
        </span>
      </div>
    );
  }
  const value = option.value;
  return (
    <div className="field tool-option">
      <label htmlFor={id}>
        <code>{option.name}</code>
      </label>
      {value.kind === 'choice' ? (
        <select
          id={id}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          aria-describedby={hintId}
        >
          <option value="">not set</option>
          {value.oneOf.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type={value.kind === 'integer' ? 'number' : 'text'}
          {...(value.kind === 'integer' ? { min: value.min, max: value.max, step: 1 } : {})}
          {...((value.kind === 'path' || value.kind === 'glob') && props.listId
            ? { list: props.listId }
            : {})}
          placeholder={valueHint(value)}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          aria-describedby={hintId}
          spellCheck={false}
          autoComplete="off"
        />
      )}
      <span id={hintId} className="hint small">
        {option.description}
      </span>
    </div>
  );
}

/**
 * A tool run's own additions, as the tool declares them: its options (a checkbox per flag, a
 * field per valued option), its operands one per line, then, folded, extra variables as
 * NAME=value lines and stdin. The variables the tool sets for a project laid out as it expects
 * are named, so nothing set for the run is hidden. The server checks everything again and names
 * what it refuses.
 */
export function ToolArgumentsFields(props: {
  tool: ToolForArguments;
  inputs: ArgumentInputs;
  onInputs: (inputs: ArgumentInputs) => void;
  envText: string;
  onEnvText: (text: string) => void;
  stdin: string;
  onStdin: (text: string) => void;
  /** The project's file paths, offered for path arguments; empty for an example. */
  files: readonly string[];
  /** The server's (or the form's) word on the arguments and the variables. */
  argsError: string | null;
  envError: string | null;
}) {
  const base = useId();
  const [open, setOpen] = useState(false);
  const declared = props.tool.arguments;
  const listId = props.files.length > 0 ? `${base}-files` : undefined;
  const setOption = (name: string, value: string) =>
    props.onInputs({ ...props.inputs, options: { ...props.inputs.options, [name]: value } });
  const operandLabel =
    declared?.operands?.value.kind === 'text'
      ? 'Program arguments'
      : declared?.operands?.value.kind === 'glob'
        ? 'Globs'
        : 'Paths';
  return (
    <div className="stack tool-arguments">
      {listId && (
        <datalist id={listId}>
          {props.files.slice(0, 500).map((file) => (
            <option key={file} value={file} />
          ))}
        </datalist>
      )}
      {declared ? (
        <fieldset className="tool-args" aria-describedby={`${base}-about`}>
          <legend>Arguments for {props.tool.name}</legend>
          <p id={`${base}-about`} className="muted small" style={{ marginTop: 0 }}>
            {declared.description}
          </p>
          {declared.options.length > 0 && (
            <div className="row" style={{ alignItems: 'flex-start', flexWrap: 'wrap' }}>
              {declared.options.map((option, index) => (
                <OptionField
                  key={option.name}
                  option={option}
                  id={`${base}-option-${index}`}
                  value={props.inputs.options[option.name] ?? ''}
                  onChange={(value) => setOption(option.name, value)}
                  listId={listId}
                />
              ))}
            </div>
          )}
          {declared.operands && (
            <div className="field" style={{ marginTop: 'var(--space-3)' }}>
              <label htmlFor={`${base}-operands`}>
                {operandLabel} <span className="hint">one per line, optional</span>
              </label>
              <textarea
                id={`${base}-operands`}
                rows={2}
                value={props.inputs.operands}
                onChange={(e) => props.onInputs({ ...props.inputs, operands: e.target.value })}
                aria-describedby={`${base}-operands-hint`}
                spellCheck={false}
                placeholder={
                  declared.operands.default.length > 0
                    ? `default: ${declared.operands.default.join(' ')}`
                    : undefined
                }
              />
              <span id={`${base}-operands-hint`} className="hint small">
                {declared.operands.description}
              </span>
            </div>
          )}
          {props.argsError && (
            <p className="field-error" role="alert">
              {props.argsError}
            </p>
          )}
        </fieldset>
      ) : (
        <p className="muted small">{props.tool.name} takes no arguments.</p>
      )}
      <details
        className="advanced"
        open={open || props.envError !== null || props.envText !== '' || props.stdin !== ''}
        onToggle={(e) => setOpen(e.currentTarget.open)}
      >
        <summary>
          Environment and standard input <span className="hint">(optional)</span>
        </summary>
        <div className="grid-2" style={{ marginTop: 'var(--space-3)' }}>
          <div className="field">
            <label htmlFor={`${base}-env`}>
              Environment variables <span className="hint">NAME=value, one per line</span>
            </label>
            <textarea
              id={`${base}-env`}
              rows={2}
              value={props.envText}
              onChange={(e) => props.onEnvText(e.target.value)}
              aria-invalid={props.envError !== null}
              aria-describedby={`${base}-env-hint`}
              spellCheck={false}
            />
            {props.envError && (
              <span className="field-error" role="alert">
                {props.envError}
              </span>
            )}
            <span id={`${base}-env-hint`} className="hint small">
              {(props.tool.detectedEnv ?? []).map((detected) => (
                <span key={detected.name}>
                  {props.tool.name} sets{' '}
                  <code>
                    {detected.name}={detected.value.replace('{workspace}', '/workspace')}
                  </code>{' '}
                  when {detected.reason}; the run says when it did.{' '}
                </span>
              ))}
              Names runbox sets itself (PATH, HOME, LD_*, PYTHON*, NODE_* …) are refused.
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${base}-stdin`}>Standard input</label>
            <textarea
              id={`${base}-stdin`}
              rows={2}
              value={props.stdin}
              onChange={(e) => props.onStdin(e.target.value)}
            />
          </div>
        </div>
      </details>
    </div>
  );
}
