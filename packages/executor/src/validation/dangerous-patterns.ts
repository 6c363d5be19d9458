import type { Language } from '../languages/language.ts';
import { createRedactor } from '../output/redact.ts';
import { DangerousPatternError } from './validation-errors.ts';

/**
 * Flags code that reaches for a shell, a native library, raw sockets or eval. The sandbox contains
 * all of these; the flags are advice for the operator (warn) or a policy (block), not a defence.
 * Patterns are matched line by line after removing comments, cheaply: quotes are tracked so a `#`
 * or `//` inside a string is not taken for a comment, but nothing is parsed. Words inside strings
 * still count (they may be fed to eval).
 */

/** 'off' skips the check; 'warn' (default) returns findings; 'block' refuses the first one. */
export type DangerousPatternMode = 'off' | 'warn' | 'block';
export const DEFAULT_DANGEROUS_PATTERN_MODE: DangerousPatternMode = 'warn';

export interface DangerousRule {
  /** Stable id, e.g. 'python-os-command'; errors and warnings name it. */
  readonly id: string;
  /** Matched against one line with comments removed. Bounded, and without the g flag. */
  readonly pattern: RegExp;
  /** Why the rule exists, in a few words. */
  readonly message: string;
}

export interface DangerousFinding {
  readonly rule: string;
  /** 1-based line. */
  readonly line: number;
  /** The line, trimmed, at most EXCERPT_MAX_CHARS long, with secrets redacted. */
  readonly excerpt: string;
  readonly message: string;
}

export const EXCERPT_MAX_CHARS = 120;

const PYTHON_RULES: readonly DangerousRule[] = [
  {
    id: 'python-eval',
    pattern: /(?<![\w.])eval\s*\(/,
    message: 'eval() runs a string as code',
  },
  {
    id: 'python-exec',
    pattern: /(?<![\w.])exec\s*\(/,
    message: 'exec() runs a string as code',
  },
  {
    id: 'python-dynamic-import',
    pattern: /\b__import__\s*\(|\bimportlib\b/,
    message: 'imports a module chosen at run time',
  },
  {
    id: 'python-subprocess',
    pattern: /\bsubprocess\b/,
    message: 'subprocess starts other programs',
  },
  {
    id: 'python-os-command',
    pattern: /\bos\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?|fork|forkpty|posix_spawnp?)\s*\(/,
    message: 'runs a shell command or another program',
  },
  {
    id: 'python-ctypes',
    pattern: /\bctypes\b/,
    message: 'ctypes calls native code directly',
  },
  {
    id: 'python-socket',
    pattern:
      /^\s*(?:import\s+[\w\s,.]{0,200}\bsocket\b|from\s+socket\s+import\b)|\bsocket\.socket\s*\(/,
    message: 'opens raw network sockets',
  },
];

const SCRIPT_RULES: readonly DangerousRule[] = [
  {
    id: 'js-eval',
    pattern: /(?<![\w$.])eval\s*\(/,
    message: 'eval() runs a string as code',
  },
  {
    id: 'js-function-constructor',
    pattern: /(?<![\w$.])Function\s*\(/,
    message: 'the Function constructor runs a string as code',
  },
  {
    id: 'js-child-process',
    pattern: /\bchild_process\b/,
    message: 'child_process starts other programs',
  },
  {
    id: 'js-vm',
    pattern: /(?:require\s*\(\s*|from\s+|import\s*\(\s*|import\s+)['"](?:node:)?vm['"]/,
    message: 'the vm module runs strings as code',
  },
  {
    id: 'js-raw-network',
    pattern:
      /(?:require\s*\(\s*|from\s+|import\s*\(\s*|import\s+)['"](?:node:)?(?:net|dgram|tls)['"]/,
    message: 'opens raw network sockets',
  },
  {
    id: 'js-process-binding',
    pattern: /\bprocess\s*\.\s*(?:binding|_linkedBinding|dlopen)\b/,
    message: 'reaches into native bindings',
  },
];

const BASH_RULES: readonly DangerousRule[] = [
  {
    id: 'bash-pipe-to-shell',
    pattern:
      /\b(?:curl|wget)\b[^|\n]{0,500}\|\s{0,20}(?:sudo\s{1,20})?(?:\b(?:ba|da|z|k)?sh|python[0-9.]{0,4}|perl|ruby|node)\b|\b(?:(?:ba|da|z|k)?sh|source)\s{1,20}<\(\s{0,20}(?:curl|wget)\b/,
    message: 'runs a script fetched from the network',
  },
  {
    id: 'bash-dev-tcp',
    pattern: /\/dev\/(?:tcp|udp)\//,
    message: '/dev/tcp opens network connections from the shell',
  },
  {
    id: 'bash-netcat',
    pattern: /(?<![\w./-])(?:nc|ncat|netcat|socat)(?=\s|$)/,
    message: 'netcat opens network connections or shells',
  },
  {
    id: 'bash-rm-root',
    pattern:
      /(?<![\w-])rm\s{1,20}(?:-[\w-]{1,30}\s{1,20}){0,6}["']?(?:\/\*?|~\/?\*?|\$\{?HOME\}?\/?\*?)["']?(?=$|[\s;&|)])/,
    message: 'deletes the root or home directory',
  },
  {
    id: 'bash-fork-bomb',
    pattern: /:\s{0,5}\(\s{0,5}\)\s{0,5}\{\s{0,5}:\s{0,5}\|\s{0,5}:\s{0,5}&/,
    message: 'a fork bomb',
  },
  {
    id: 'bash-eval',
    pattern: /(?<![\w-])eval(?=\s)/,
    message: 'eval runs a string as shell code',
  },
];

export const DANGEROUS_RULES: Readonly<Record<Language, readonly DangerousRule[]>> = {
  python: PYTHON_RULES,
  javascript: SCRIPT_RULES,
  typescript: SCRIPT_RULES,
  bash: BASH_RULES,
};

/** Quote and comment state carried from one line to the next. */
interface ScanState {
  blockComment: boolean;
  /** The open quote: ', ", ` (JS template), ''' or """ (Python); null outside strings. */
  quote: string | null;
}

/** Removes `//` and `/* *\/` comments; quotes ' " and template literals are tracked. */
function stripScriptComments(line: string, state: ScanState): string {
  let kept = '';
  let index = 0;
  while (index < line.length) {
    const char = line[index] ?? '';
    const next = line[index + 1] ?? '';
    if (state.blockComment) {
      if (char === '*' && next === '/') {
        state.blockComment = false;
        kept += ' ';
        index += 2;
      } else {
        index += 1;
      }
      continue;
    }
    if (state.quote !== null) {
      if (char === '\\') {
        kept += char + next;
        index += 2;
        continue;
      }
      if (char === state.quote) state.quote = null;
      kept += char;
      index += 1;
      continue;
    }
    if (char === '/' && next === '/') break;
    if (char === '/' && next === '*') {
      state.blockComment = true;
      index += 2;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') state.quote = char;
    kept += char;
    index += 1;
  }
  // Only template literals span lines; an unclosed ' or " ends with its line.
  if (state.quote !== '`') state.quote = null;
  return kept;
}

/** Removes `#` comments; ' " and triple-quoted strings are tracked. */
function stripPythonComments(line: string, state: ScanState): string {
  let kept = '';
  let index = 0;
  while (index < line.length) {
    const char = line[index] ?? '';
    if (state.quote !== null) {
      if (char === '\\') {
        kept += line.slice(index, index + 2);
        index += 2;
        continue;
      }
      if (line.startsWith(state.quote, index)) {
        kept += state.quote;
        index += state.quote.length;
        state.quote = null;
        continue;
      }
      kept += char;
      index += 1;
      continue;
    }
    if (char === '#') break;
    if (char === "'" || char === '"') {
      const triple = char.repeat(3);
      state.quote = line.startsWith(triple, index) ? triple : char;
      kept += state.quote;
      index += state.quote.length;
      continue;
    }
    kept += char;
    index += 1;
  }
  if (state.quote !== "'''" && state.quote !== '"""') state.quote = null;
  return kept;
}

/** Removes `#` comments that start a word (so `$#` and `${#x}` stay); ' and " are tracked. */
function stripShellComments(line: string): string {
  let quote: string | null = null;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quote !== null) {
      if (char === '\\' && quote === '"') index += 1;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '\\') {
      index += 1;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '#' && (index === 0 || /[\s;&|()]/.test(line[index - 1] ?? ''))) {
      return line.slice(0, index);
    }
  }
  return line;
}

/** The code's lines with comments removed; line numbers stay the same. */
export function linesWithoutComments(language: Language, code: string): string[] {
  const state: ScanState = { blockComment: false, quote: null };
  return code.split('\n').map((line) => {
    switch (language) {
      case 'python':
        return stripPythonComments(line, state);
      case 'javascript':
      case 'typescript':
        return stripScriptComments(line, state);
      case 'bash':
        return stripShellComments(line);
    }
  });
}

const excerptRedactor = createRedactor();

function excerptOf(line: string): string {
  const trimmed = excerptRedactor.redact(line.trim()).text;
  return trimmed.length > EXCERPT_MAX_CHARS
    ? `${trimmed.slice(0, EXCERPT_MAX_CHARS - 1)}…`
    : trimmed;
}

/** Every rule that matches, at most once per rule and line, in line order. */
export function findDangerousPatterns(language: Language, code: string): DangerousFinding[] {
  const rules = DANGEROUS_RULES[language];
  const original = code.split('\n');
  const findings: DangerousFinding[] = [];
  linesWithoutComments(language, code).forEach((line, index) => {
    for (const rule of rules) {
      if (!rule.pattern.test(line)) continue;
      findings.push({
        rule: rule.id,
        line: index + 1,
        excerpt: excerptOf(original[index] ?? ''),
        message: rule.message,
      });
    }
  });
  return findings;
}

/**
 * Applies the mode: 'off' returns nothing without scanning; 'warn' returns the findings; 'block'
 * throws DangerousPatternError naming the first finding's rule and line.
 */
export function checkDangerousPatterns(
  language: Language,
  code: string,
  mode: DangerousPatternMode = DEFAULT_DANGEROUS_PATTERN_MODE,
): DangerousFinding[] {
  if (mode === 'off') return [];
  const findings = findDangerousPatterns(language, code);
  const first = findings[0];
  if (mode === 'block' && first !== undefined) throw new DangerousPatternError(first);
  return findings;
}
