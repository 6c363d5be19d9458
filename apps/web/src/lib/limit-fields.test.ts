import { describe, expect, it } from 'vitest';
import {
  EMPTY_LIMIT_INPUTS,
  LIMIT_FIELDS,
  effectiveDefaults,
  inputsFromLimits,
  limitsFromInputs,
  toFormUnits,
} from './limit-fields';

const MiB = 2 ** 20;

describe('limit fields', () => {
  it('asks for nothing when every field is empty', () => {
    expect(limitsFromInputs(EMPTY_LIMIT_INPUTS)).toBeUndefined();
  });

  it('converts seconds and MiB to the API units, whole numbers only', () => {
    expect(
      limitsFromInputs({
        ...EMPTY_LIMIT_INPUTS,
        wallTimeMs: '2.5',
        memoryBytes: '64',
        outputBytes: '0.5',
      }),
    ).toEqual({
      wallTimeMs: 2_500,
      memoryBytes: 64 * MiB,
      outputBytes: MiB / 2,
    });
    expect(limitsFromInputs({ ...EMPTY_LIMIT_INPUTS, wallTimeMs: '0.0015' })).toEqual({
      wallTimeMs: 2,
    });
  });

  it('leaves out fields that are not a positive number (the server has the last word)', () => {
    expect(
      limitsFromInputs({ ...EMPTY_LIMIT_INPUTS, wallTimeMs: 'abc', memoryBytes: '-1', cpus: ' ' }),
    ).toBe(undefined);
  });

  it('turns a run’s limits back into the inputs, keeping fields it did not set empty', () => {
    expect(inputsFromLimits({ wallTimeMs: 3_000, maxProcesses: 5 })).toEqual({
      ...EMPTY_LIMIT_INPUTS,
      wallTimeMs: '3',
      maxProcesses: '5',
    });
    expect(inputsFromLimits(null)).toEqual(EMPTY_LIMIT_INPUTS);
    const inputs = inputsFromLimits({
      wallTimeMs: 1_234,
      memoryBytes: 100 * MiB,
      outputBytes: 1024,
    });
    expect(limitsFromInputs(inputs)).toEqual({
      wallTimeMs: 1_234,
      memoryBytes: 100 * MiB,
      outputBytes: 1_049, // 0.001 MiB: three decimals is what the form shows
    });
  });

  it('takes every limit the API takes: counts whole, cores as a fraction', () => {
    expect(LIMIT_FIELDS.map((field) => field.key)).toEqual([
      'wallTimeMs',
      'memoryBytes',
      'maxProcesses',
      'cpus',
      'tmpBytes',
      'workspaceBytes',
      'openFiles',
      'outputBytes',
    ]);
    expect(
      limitsFromInputs({
        ...EMPTY_LIMIT_INPUTS,
        maxProcesses: '300.4',
        cpus: '1.5',
        tmpBytes: '128',
        workspaceBytes: '256',
        openFiles: '1024',
      }),
    ).toEqual({
      maxProcesses: 300,
      cpus: 1.5,
      tmpBytes: 128 * MiB,
      workspaceBytes: 256 * MiB,
      openFiles: 1024,
    });
  });

  it('shows values with at most three decimals', () => {
    const wall = LIMIT_FIELDS.find((field) => field.key === 'wallTimeMs')!;
    expect(toFormUnits(wall, 30_000)).toBe('30');
    expect(toFormUnits(wall, 1_500)).toBe('1.5');
    expect(toFormUnits(wall, 1)).toBe('0.001');
  });

  it('lays the tool’s limits over the defaults and the example’s over both', () => {
    const defaults = {
      wallTimeMs: 30_000,
      memoryBytes: 512 * MiB,
      maxProcesses: 256,
      cpus: 1,
      tmpBytes: 64 * MiB,
      workspaceBytes: 64 * MiB,
      openFiles: 256,
      outputBytes: MiB,
    };
    expect(
      effectiveDefaults(defaults, { wallTimeMs: 60_000, cpus: 2 }, { wallTimeMs: 3_000 }, null),
    ).toEqual({ ...defaults, wallTimeMs: 3_000, cpus: 2 });
  });
});
