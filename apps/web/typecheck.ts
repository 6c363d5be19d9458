// Type-checks the web app. Errors in other packages' sources (reached through `import type
// { AppRouter }`, checked here under Next's global types) are reported by their own typecheck.
import { spawnSync } from 'node:child_process';

const result = spawnSync('tsc', ['--noEmit', '-p', '.'], { encoding: 'utf8', shell: false });
const lines = (result.stdout + result.stderr).split('\n');
const own: string[] = [];
let keep = false;
for (const line of lines) {
  if (/^\S.*\(\d+,\d+\): error/.test(line)) keep = !line.startsWith('../');
  if (keep && line.trim()) own.push(line);
}
if (own.length) {
  console.error(own.join('\n'));
  process.exit(1);
}
console.log('apps/web: types ok');
