import { CodeTooLargeError } from './validation-errors.ts';

/** Largest snippet accepted, in UTF-8 bytes. Default 100 KB. */
export const DEFAULT_MAX_CODE_BYTES = 102_400;

/** The size that counts: UTF-8 bytes, the way the code is written to disk, not string length. */
export function codeSizeBytes(code: string): number {
  return Buffer.byteLength(code, 'utf8');
}

/** Returns the code's size in bytes; throws CodeTooLargeError when it is over `maxBytes`. */
export function checkCodeSize(code: string, maxBytes: number = DEFAULT_MAX_CODE_BYTES): number {
  const sizeBytes = codeSizeBytes(code);
  if (sizeBytes > maxBytes) throw new CodeTooLargeError({ sizeBytes, maxBytes });
  return sizeBytes;
}
