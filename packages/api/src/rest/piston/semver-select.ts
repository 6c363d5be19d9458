/**
 * Whether a version satisfies a Piston `version` selector: the part of npm's semver ranges Piston
 * clients send. `*`, `x` or empty: any; `3`, `3.x`, `3.11`, `3.11.x`: that prefix; `3.11.2` (or
 * `=3.11.2`, `v3.11.2`): exactly; `^3.10.0`, `~3.11.0`; comparators `>`, `>=`, `<`, `<=` (several
 * separated by spaces must all hold); and alternatives joined by `||`. Versions are plain
 * `major.minor.patch` (what the interpreters report); prerelease tags are not compared.
 */

type Triple = readonly [number, number, number];

/** A partial version: the numbers given, up to the first wildcard. */
type Partial = readonly number[];

function compare(a: Triple, b: Triple): number {
  for (let index = 0; index < 3; index++) {
    const diff = (a[index] ?? 0) - (b[index] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function parseVersion(text: string): Triple | null {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  if (!match) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** `3`, `3.x`, `3.11.*`, `v3.11.2` → the numbers before any wildcard; null if it is not one. */
function parsePartial(text: string): Partial | null {
  const parts = text.replace(/^v/, '').split('.');
  if (parts.length > 3 || parts.some((part) => part === '')) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    if (/^[xX*]$/.test(part)) return numbers;
    if (!/^\d+$/.test(part)) return null;
    numbers.push(Number(part));
  }
  return numbers;
}

/** The version with the given prefix's next value: 3.11 → 3.12.0, 3 → 4.0.0. */
function bump(partial: Partial): Triple {
  const triple = [partial[0] ?? 0, partial[1] ?? 0, partial[2] ?? 0] as [number, number, number];
  const at = partial.length - 1;
  triple[at] = (triple[at] ?? 0) + 1;
  for (let index = at + 1; index < 3; index++) triple[index] = 0;
  return triple;
}

function lowest(partial: Partial): Triple {
  return [partial[0] ?? 0, partial[1] ?? 0, partial[2] ?? 0];
}

/** One comparator (`>=3.10`, `^3.10.0`, `3.x`), or null when it is not one. */
function comparatorHolds(version: Triple, comparator: string): boolean | null {
  const match = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(comparator);
  const operator = match?.[1] ?? '';
  const partial = parsePartial(match?.[2] ?? '');
  if (!partial) return null;
  if (partial.length === 0) return operator === '' || operator === '=' || operator === '>=';
  const low = lowest(partial);
  switch (operator) {
    case '':
    case '=':
      return partial.length === 3
        ? compare(version, low) === 0
        : compare(version, low) >= 0 && compare(version, bump(partial)) < 0;
    case '>=':
      return compare(version, low) >= 0;
    case '>':
      return partial.length === 3
        ? compare(version, low) > 0
        : compare(version, bump(partial)) >= 0;
    case '<':
      return compare(version, low) < 0;
    case '<=':
      return partial.length === 3
        ? compare(version, low) <= 0
        : compare(version, bump(partial)) < 0;
    case '~':
      return compare(version, low) >= 0 && compare(version, bump(partial.slice(0, 2))) < 0;
    case '^': {
      // The first number that is not 0 may not change.
      const fixed = partial.findIndex((part) => part !== 0);
      const keep = fixed === -1 ? partial.length : Math.min(fixed + 1, partial.length);
      return compare(version, low) >= 0 && compare(version, bump(partial.slice(0, keep))) < 0;
    }
    default:
      return null;
  }
}

/**
 * True when `version` satisfies `selector`, false when it does not; null when the selector is not
 * one this understands (the caller answers as for an unknown runtime).
 */
export function satisfies(version: string, selector: string): boolean | null {
  const triple = parseVersion(version);
  if (!triple) return null;
  let understood = true;
  const holds = selector.split('||').some((alternative) => {
    const comparators = alternative
      .trim()
      .replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1')
      .split(/\s+/)
      .filter((part) => part !== '');
    if (comparators.length === 0) return true;
    return comparators.every((comparator) => {
      const result = comparatorHolds(triple, comparator);
      if (result === null) understood = false;
      return result === true;
    });
  });
  return understood ? holds : null;
}
