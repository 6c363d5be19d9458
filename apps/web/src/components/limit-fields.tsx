'use client';
import { formatBytes, formatDuration } from '@/lib/format';
import {
  LIMIT_FIELDS,
  toFormUnits,
  type LimitField,
  type LimitInputs,
  type LimitValues,
} from '@/lib/limit-fields';

function describe(field: LimitField, value: number): string {
  if (field.unit === 'seconds') return formatDuration(value);
  if (field.unit === 'MiB') return formatBytes(value);
  if (field.unit === 'cores') return `${value} ${value === 1 ? 'core' : 'cores'}`;
  return String(value);
}

/**
 * The optional limits of a new run, every one `runs.create` takes. Each field shows what applies
 * when left empty and the range this server allows (from `limits.get`, which an operator may have
 * raised); the browser refuses a value outside it before sending, and the server checks again.
 */
export function LimitFields(props: {
  inputs: LimitInputs;
  onChange: (inputs: LimitInputs) => void;
  /** What applies when a field is left empty; null while the server's limits load. */
  defaults: LimitValues | null;
  minimums: LimitValues | null;
  maximums: LimitValues | null;
}) {
  return (
    <div className="row limit-fields" style={{ alignItems: 'flex-start' }}>
      {LIMIT_FIELDS.map((field) => {
        const min = props.minimums?.[field.key];
        const max = props.maximums?.[field.key];
        const fallback = props.defaults?.[field.key];
        const hintId = `${field.id}-range`;
        return (
          <div className="field" key={field.key}>
            <label htmlFor={field.id}>
              {field.label} <span className="hint">{field.unit}, optional</span>
            </label>
            <input
              id={field.id}
              type="number"
              inputMode="decimal"
              step={field.fractional || field.scale > 1 ? 'any' : 1}
              {...(min !== undefined ? { min: toFormUnits(field, min) } : {})}
              {...(max !== undefined ? { max: toFormUnits(field, max) } : {})}
              placeholder={
                fallback !== undefined ? `default ${toFormUnits(field, fallback)}` : 'default'
              }
              aria-describedby={hintId}
              value={props.inputs[field.key]}
              onChange={(e) => props.onChange({ ...props.inputs, [field.key]: e.target.value })}
              style={{ width: 150 }}
            />
            <span id={hintId} className="hint small">
              {min !== undefined && max !== undefined
                ? `${describe(field, min)} to ${describe(field, max)}`
                : '\u00a0'}
            </span>
          </div>
        );
      })}
    </div>
  );
}
