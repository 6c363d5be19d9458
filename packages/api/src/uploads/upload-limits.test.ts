import { describe, expect, it } from 'vitest';
import {
  DEFAULT_UPLOAD_LIMITS,
  InvalidUploadLimitError,
  resolveUploadLimits,
  uploadLimitsOverrideSchema,
} from './upload-limits.ts';

const MiB = 1024 * 1024;

describe('resolveUploadLimits', () => {
  it('gives the documented defaults', () => {
    expect(resolveUploadLimits()).toEqual({
      maxUploadBytes: 20 * MiB,
      maxTotalBytes: 50 * MiB,
      maxFileBytes: 10 * MiB,
      maxFiles: 2_000,
      maxDirectories: 2_000,
      maxCompressionRatio: 100,
      compressionRatioMinBytes: 1 * MiB,
      maxPathDepth: 16,
      maxPathBytes: 255,
      maxComponentBytes: 100,
    });
  });

  it('takes overrides and keeps the rest', () => {
    const limits = resolveUploadLimits({ maxFiles: 10, maxCompressionRatio: 12.5 });
    expect(limits.maxFiles).toBe(10);
    expect(limits.maxCompressionRatio).toBe(12.5);
    expect(limits.maxFileBytes).toBe(DEFAULT_UPLOAD_LIMITS.maxFileBytes);
  });

  it('allows a ratio threshold of 0 (check every entry)', () => {
    expect(resolveUploadLimits({ compressionRatioMinBytes: 0 }).compressionRatioMinBytes).toBe(0);
  });

  it('refuses zero, negative, fractional and non-finite values, naming the field', () => {
    for (const [field, value] of [
      ['maxFiles', 0],
      ['maxFileBytes', -1],
      ['maxPathDepth', 1.5],
      ['maxTotalBytes', Number.NaN],
      ['maxCompressionRatio', 0.5],
      ['maxUploadBytes', Number.POSITIVE_INFINITY],
    ] as const) {
      let caught: unknown;
      try {
        resolveUploadLimits({ [field]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidUploadLimitError);
      expect((caught as InvalidUploadLimitError).field).toBe(field);
      expect((caught as InvalidUploadLimitError).code).toBe('INVALID_UPLOAD_LIMIT');
    }
  });

  it('has a config schema that accepts a subset and refuses unknown keys', () => {
    expect(uploadLimitsOverrideSchema.parse({ maxFiles: 5 })).toEqual({ maxFiles: 5 });
    expect(() => uploadLimitsOverrideSchema.parse({ maxFilez: 5 })).toThrow();
    expect(() => uploadLimitsOverrideSchema.parse({ maxFiles: -5 })).toThrow();
  });
});
