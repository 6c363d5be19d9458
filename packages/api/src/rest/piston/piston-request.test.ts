import { describe, expect, it } from 'vitest';
import {
  parsePistonExecute,
  pistonField,
  pistonLimits,
  pistonStdin,
  snippetFilesOf,
} from './piston-request.ts';

const base = { language: 'python', version: '*', files: [{ content: 'print(1)' }] };
const MAXIMUMS = { wallTimeMs: 300_000, memoryBytes: 4096 * 1024 * 1024 };

function messageOf(body: unknown): string {
  try {
    parsePistonExecute(body);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe("Piston's execute request", () => {
  it("refuses what Piston refuses, with Piston's messages", () => {
    expect(messageOf({ ...base, language: undefined })).toBe('language is required as a string');
    expect(messageOf({ ...base, version: 3 })).toBe('version is required as a string');
    expect(messageOf({ ...base, files: 'x' })).toBe('files is required as an array');
    expect(messageOf({ ...base, files: [{ name: 'a.py' }] })).toBe(
      'files[0].content is required as a string',
    );
    expect(messageOf({ ...base, run_timeout: '3s' })).toBe(
      'If specified, run_timeout must be a number',
    );
    expect(messageOf({ ...base, args: [1] })).toBe('args[0] must be a string');
    expect(messageOf({ ...base, files: [{ content: '', encoding: 'utf-16' }] })).toBe(
      'files[0].encoding must be one of utf8, base64, hex',
    );
    expect(messageOf([base])).toBe('the body must be a JSON object');
  });

  it('ignores fields Piston does not know', () => {
    expect(parsePistonExecute({ ...base, extra: true }).language).toBe('python');
    expect(pistonField(['files', 2, 'name'])).toBe('files[2].name');
  });

  it('runs the first utf8 file, names unnamed ones, decodes base64 and hex', () => {
    const body = parsePistonExecute({
      language: 'py',
      version: '3',
      files: [
        { content: Buffer.from('data').toString('base64'), encoding: 'base64' },
        { content: 'import helper' },
        { name: 'helper.py', content: Buffer.from('X = 1').toString('hex'), encoding: 'hex' },
        { content: '' },
      ],
    });
    expect(snippetFilesOf(body, 'python')).toEqual({
      entry: 'main.py',
      files: [
        { name: 'file0.code', content: 'data' },
        { name: 'main.py', content: 'import helper' },
        { name: 'helper.py', content: 'X = 1' },
        { name: 'file3.code', content: '' },
      ],
    });
  });

  it('refuses files that are not text, or no utf8 file at all', () => {
    const binary = parsePistonExecute({
      ...base,
      files: [{ content: 'print(1)' }, { content: '/w==', encoding: 'base64' }],
    });
    expect(() => snippetFilesOf(binary, 'python')).toThrow(/files\[1\]\.content .*UTF-8/);
    const none = parsePistonExecute({ ...base, files: [{ content: 'aGk=', encoding: 'base64' }] });
    expect(() => snippetFilesOf(none, 'python')).toThrow(
      'files must include at least one utf8 encoded file',
    );
  });

  it('adds the final newline Piston adds to stdin', () => {
    expect(pistonStdin(undefined)).toBe('\n');
    expect(pistonStdin('a')).toBe('a\n');
    expect(pistonStdin('a\n')).toBe('a\n');
  });

  it('maps the run limits and refuses them beyond the maximums, naming the limit', () => {
    const limits = (extra: Record<string, unknown>) =>
      pistonLimits(parsePistonExecute({ ...base, ...extra }), MAXIMUMS);
    expect(limits({ run_timeout: 3000, run_memory_limit: -1, compile_timeout: 10000 })).toEqual({
      wallTimeMs: 3000,
    });
    expect(limits({ run_timeout: 0, run_memory_limit: 128 * 1024 * 1024 })).toEqual({
      memoryBytes: 128 * 1024 * 1024,
    });
    expect(() => limits({ run_timeout: 300_001 })).toThrow(
      'run_timeout cannot exceed the configured limit of 300000',
    );
    expect(() => limits({ run_memory_limit: 2 ** 40 })).toThrow(/^run_memory_limit cannot exceed/);
    expect(() => limits({ run_timeout: 500 })).toThrow(/run_timeout must be at least 1000/);
    expect(() => limits({ run_timeout: -5 })).toThrow('run_timeout must be non-negative');
  });
});
