import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * pino: JSON lines in production, readable lines in development. Every line about a run carries
 * runId, owner and tool (children made with `runLogger`).
 */
export function createLogger(options: { level: string; pretty: boolean }): Logger {
  return pino({
    level: options.level,
    base: { service: 'runbox' },
    ...(options.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l' },
          },
        }
      : {}),
  });
}

export function runLogger(log: Logger, run: { id: string; owner: string; tool: string }): Logger {
  return log.child({ runId: run.id, owner: run.owner, tool: run.tool });
}

/** A logger whose every line's message goes to `write` (tests, embedding). */
export function loggerToFunction(write: (message: string) => void): Logger {
  return pino(
    { level: 'info', base: null },
    {
      write(line: string) {
        try {
          const record = JSON.parse(line) as { msg?: unknown };
          write(String(record.msg ?? line));
        } catch {
          write(line);
        }
      },
    },
  );
}
