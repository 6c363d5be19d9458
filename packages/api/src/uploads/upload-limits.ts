import { z } from 'zod';

/**
 * What one upload may contain. Every limit is checked against what the archive declares before
 * anything is written, and again against the bytes really produced while inflating.
 */
export interface UploadLimits {
  /** Size of the uploaded archive itself (compressed bytes). Default 20 MiB. */
  maxUploadBytes: number;
  /** Sum of all file sizes once extracted. Default 50 MiB. */
  maxTotalBytes: number;
  /** Size of any one extracted file. Default 10 MiB. */
  maxFileBytes: number;
  /** Regular files in the upload. Default 2,000. */
  maxFiles: number;
  /** Directories the upload creates, listed or implied by a file's path. Default 2,000. */
  maxDirectories: number;
  /**
   * Largest uncompressed:compressed ratio, per zip entry and for the whole archive (zip and
   * tar.gz). Default 100 (100:1).
   */
  maxCompressionRatio: number;
  /**
   * The ratio is only checked once an entry (or the whole archive) inflates to more than this,
   * so a small file that compresses very well is not refused. Default 1 MiB.
   */
  compressionRatioMinBytes: number;
  /** Components in one path ("a/b/c.txt" has 3). Default 16. */
  maxPathDepth: number;
  /** UTF-8 bytes of one whole path, after Unicode NFC normalisation. Default 255. */
  maxPathBytes: number;
  /** UTF-8 bytes of one path component (a file or directory name). Default 100. */
  maxComponentBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_UPLOAD_LIMITS: Readonly<UploadLimits> = Object.freeze({
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

export const UPLOAD_LIMIT_NAMES = Object.keys(DEFAULT_UPLOAD_LIMITS) as (keyof UploadLimits)[];

/** A configured upload limit that is not a usable number. */
export class InvalidUploadLimitError extends Error {
  readonly code = 'INVALID_UPLOAD_LIMIT';
  readonly field: keyof UploadLimits;
  readonly value: unknown;
  constructor(options: { field: keyof UploadLimits; value: unknown; expected: string }) {
    super(
      `upload limit ${options.field}=${String(options.value)} is invalid: expected ${options.expected}`,
    );
    this.name = 'InvalidUploadLimitError';
    this.field = options.field;
    this.value = options.value;
  }
}

/** Shape of an upload-limits section in a configuration file: any subset of the limits. */
export const uploadLimitsOverrideSchema = z
  .object({
    maxUploadBytes: z.number().int().positive(),
    maxTotalBytes: z.number().int().positive(),
    maxFileBytes: z.number().int().positive(),
    maxFiles: z.number().int().positive(),
    maxDirectories: z.number().int().positive(),
    maxCompressionRatio: z.number().min(1),
    compressionRatioMinBytes: z.number().int().nonnegative(),
    maxPathDepth: z.number().int().positive(),
    maxPathBytes: z.number().int().positive(),
    maxComponentBytes: z.number().int().positive(),
  })
  .partial()
  .strict();

export type UploadLimitsOverride = z.infer<typeof uploadLimitsOverrideSchema>;

/**
 * Merges an override over the defaults. Throws InvalidUploadLimitError for the first value that
 * is not a finite number in range (integers, at least 1; the ratio at least 1; the ratio's
 * threshold may be 0).
 */
export function resolveUploadLimits(
  override: Partial<UploadLimits> = {},
  defaults: Readonly<UploadLimits> = DEFAULT_UPLOAD_LIMITS,
): UploadLimits {
  const resolved: UploadLimits = { ...defaults };
  for (const field of UPLOAD_LIMIT_NAMES) {
    const value: unknown = override[field] ?? defaults[field];
    const integer = field !== 'maxCompressionRatio';
    const min = field === 'compressionRatioMinBytes' ? 0 : 1;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (integer && !Number.isSafeInteger(value)) ||
      value < min
    ) {
      throw new InvalidUploadLimitError({
        field,
        value,
        expected: `${integer ? 'an integer' : 'a number'} >= ${min}`,
      });
    }
    resolved[field] = value;
  }
  return resolved;
}
