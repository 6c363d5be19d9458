import { describe, expect, it } from 'vitest';
import { DEFAULT_MEDIA_TYPE, mediaTypeOf } from './media-type.ts';

describe('mediaTypeOf', () => {
  it('maps known extensions, case-insensitively, at any depth', () => {
    expect(mediaTypeOf('out.txt')).toBe('text/plain');
    expect(mediaTypeOf('data/result.CSV')).toBe('text/csv');
    expect(mediaTypeOf('a.b/plot.png')).toBe('image/png');
    expect(mediaTypeOf('r.json')).toBe('application/json');
  });

  it('falls back to octet-stream for unknown, missing and dot-file names', () => {
    expect(mediaTypeOf('binary.xyz')).toBe(DEFAULT_MEDIA_TYPE);
    expect(mediaTypeOf('Makefile')).toBe(DEFAULT_MEDIA_TYPE);
    expect(mediaTypeOf('.json')).toBe(DEFAULT_MEDIA_TYPE);
    expect(mediaTypeOf('dir.png/file')).toBe(DEFAULT_MEDIA_TYPE);
  });
});
