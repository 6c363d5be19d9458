import { hostEnvFrom } from '../host-env.ts';
import { createSandboxHost } from '../sandbox/sandbox-host.ts';
import { runSelfTest, type SelfTestCheck } from '../sandbox/self-test.ts';

function table(checks: readonly SelfTestCheck[]): string {
  const rows = checks.map((check) => [
    check.layer,
    check.mechanism,
    check.ok ? 'ok' : 'FAIL',
    check.detail,
  ]);
  const header = ['layer', 'mechanism', 'result', 'detail'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (column === 3 ? 0 : (row[column] ?? '').length))),
  );
  const format = (row: readonly string[]): string =>
    row.map((cell, column) => (column === 3 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [
    format(header),
    format(widths.map((width) => '-'.repeat(width))),
    ...rows.map(format),
  ].join('\n');
}

async function main(): Promise<number> {
  const env = hostEnvFrom(process.env);
  let host;
  try {
    host = await createSandboxHost(env.host);
  } catch (error) {
    console.log(
      table([
        {
          layer: 'sandbox host',
          mechanism: 'bwrap, cgroups, seccomp',
          ok: false,
          detail: error instanceof Error ? error.message : String(error),
        },
      ]),
    );
    return 1;
  }
  try {
    const report = await runSelfTest(host);
    console.log(table(report.checks));
    console.log(
      `\n${report.ok ? 'all layers hold' : 'SOME LAYERS FAILED: untrusted runs are refused on this host'} (${report.durationMs} ms)`,
    );
    return report.ok ? 0 : 1;
  } finally {
    await host.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`runbox doctor: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
