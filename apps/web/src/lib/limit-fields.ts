/**
 * The limits the new-run form offers, in the units people think in (seconds, MiB), and their
 * conversion to the API's (ms, bytes). The server checks every value against its own range and
 * names it when refused; the form shows that range up front from `limits.get`.
 */

export type LimitKey =
  | 'wallTimeMs'
  | 'memoryBytes'
  | 'maxProcesses'
  | 'cpus'
  | 'tmpBytes'
  | 'workspaceBytes'
  | 'openFiles'
  | 'outputBytes';

export interface LimitField {
  key: LimitKey;
  /** The input's id. */
  id: string;
  label: string;
  unit: string;
  /** API units per form unit. */
  scale: number;
  /** Whether the API takes a fraction (cores); every other limit is a whole number. */
  fractional?: boolean;
}

const MiB = 2 ** 20;

/** Every limit `runs.create` takes (`limits.get` gives each one's default and range). */
export const LIMIT_FIELDS: readonly LimitField[] = [
  { key: 'wallTimeMs', id: 'wall', label: 'Wall time', unit: 'seconds', scale: 1000 },
  { key: 'memoryBytes', id: 'memory', label: 'Memory', unit: 'MiB', scale: MiB },
  {
    key: 'maxProcesses',
    id: 'processes',
    label: 'Processes and threads',
    unit: 'count',
    scale: 1,
  },
  { key: 'cpus', id: 'cpus', label: 'CPU', unit: 'cores', scale: 1, fractional: true },
  { key: 'tmpBytes', id: 'tmp', label: '/tmp', unit: 'MiB', scale: MiB },
  { key: 'workspaceBytes', id: 'workspace', label: 'Workspace', unit: 'MiB', scale: MiB },
  { key: 'openFiles', id: 'open-files', label: 'Open files', unit: 'count', scale: 1 },
  { key: 'outputBytes', id: 'output', label: 'Output', unit: 'MiB', scale: MiB },
];

export type LimitInputs = Record<LimitKey, string>;
export type LimitValues = Record<LimitKey, number>;

export const EMPTY_LIMIT_INPUTS: LimitInputs = {
  wallTimeMs: '',
  memoryBytes: '',
  maxProcesses: '',
  cpus: '',
  tmpBytes: '',
  workspaceBytes: '',
  openFiles: '',
  outputBytes: '',
};

/** A value in API units as the form shows it: at most three decimals, no trailing zeros. */
export function toFormUnits(field: LimitField, value: number): string {
  return String(Math.round((value / field.scale) * 1000) / 1000);
}

/** The limits a run asks for: only the fields filled in, in API units; undefined when none is. */
export function limitsFromInputs(inputs: LimitInputs): Partial<LimitValues> | undefined {
  const out: Partial<LimitValues> = {};
  for (const field of LIMIT_FIELDS) {
    const text = inputs[field.key].trim();
    if (!text) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) continue;
    out[field.key] = field.fractional
      ? Math.round(value * field.scale * 1000) / 1000
      : Math.round(value * field.scale);
  }
  return Object.keys(out).length ? out : undefined;
}

/** The form's inputs for limits a run had (for "run again"); fields it did not set stay empty. */
export function inputsFromLimits(limits: Partial<Record<string, number>> | null): LimitInputs {
  const inputs = { ...EMPTY_LIMIT_INPUTS };
  for (const field of LIMIT_FIELDS) {
    const value = limits?.[field.key];
    if (typeof value === 'number') inputs[field.key] = toFormUnits(field, value);
  }
  return inputs;
}

/** What applies when a field is left empty: the server default, under the tool's, under the example's. */
export function effectiveDefaults(
  defaults: LimitValues,
  ...overrides: (Partial<Record<string, number>> | null | undefined)[]
): LimitValues {
  const out = { ...defaults };
  for (const override of overrides) {
    for (const field of LIMIT_FIELDS) {
      const value = override?.[field.key];
      if (typeof value === 'number') out[field.key] = value;
    }
  }
  return out;
}
