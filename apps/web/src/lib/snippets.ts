import type { EditorLanguage } from '@/components/code-editor';

export const LANGUAGE_NAMES: Record<EditorLanguage, string> = {
  python: 'Python',
  javascript: 'JavaScript',
  typescript: 'TypeScript',
  bash: 'Bash',
};

export const STARTER_CODE: Record<EditorLanguage, string> = {
  python: `import sys, time

name = sys.stdin.read().strip() or "world"
for i in range(5):
    print(f"\\x1b[32mhello\\x1b[0m, {name} #{i + 1}")
    time.sleep(0.3)
print("done", file=sys.stderr)
`,
  javascript: `const input = require('node:fs').readFileSync(0, 'utf8').trim() || 'world';
for (let i = 1; i <= 5; i++) {
  console.log(\`hello, \${input} #\${i}\`);
}
console.error('done');
`,
  typescript: `const input: string = require('node:fs').readFileSync(0, 'utf8').trim() || 'world';
const greet = (who: string, n: number): string => \`hello, \${who} #\${n}\`;
for (let i = 1; i <= 5; i++) console.log(greet(input, i));
`,
  bash: `#!/bin/bash
name=$(cat)
for i in 1 2 3 4 5; do
  printf '\\033[34mstep %d\\033[0m hello, %s\\n' "$i" "\${name:-world}"
  sleep 0.3
done
echo done >&2
`,
};
