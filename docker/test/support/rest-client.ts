import { setTimeout as sleep } from 'node:timers/promises';

/** The fields of a run's output answer (docs/rest.md, "Output") the container test reads. */
export interface RunOutput {
  id: string;
  state: string;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  ended: boolean;
  stdout: string;
  stderr: string;
}

export type Language = 'python' | 'javascript' | 'typescript' | 'bash';

export class RestError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, body: string) {
    super(`${method} ${path}: ${status} ${body.slice(0, 500)}`);
    this.name = 'RestError';
    this.status = status;
  }
}

/** runbox's REST API (docs/rest.md) as the admin, over the container's published port. */
export class RestClient {
  readonly base: string;
  private readonly token: string;

  constructor(base: string, adminToken: string) {
    this.base = base;
    this.token = adminToken;
  }

  async call<T>(method: string, path: string, body?: unknown, ok = [200, 201]): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await response.text();
    if (!ok.includes(response.status)) throw new RestError(method, path, response.status, text);
    return JSON.parse(text) as T;
  }

  /** One-call run: created, waited for, with its output. */
  snippet(
    language: Language,
    code: string,
    limits: Record<string, number> = {},
  ): Promise<RunOutput> {
    return this.call<RunOutput>('POST', '/api/v1/runs?wait=true', {
      kind: 'snippet',
      language,
      code,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    });
  }

  /** A run created without waiting. */
  start(language: Language, code: string, limits: Record<string, number> = {}): Promise<RunOutput> {
    return this.call<RunOutput>('POST', '/api/v1/runs', {
      kind: 'snippet',
      language,
      code,
      limits,
    });
  }

  output(id: string): Promise<RunOutput> {
    return this.call<RunOutput>('GET', `/api/v1/runs/${encodeURIComponent(id)}/output`);
  }

  /** Polls a run until `check` holds, or throws with its last state. */
  async waitFor(
    id: string,
    check: (run: RunOutput) => boolean,
    timeoutMs = 60_000,
  ): Promise<RunOutput> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.output(id);
      if (check(run)) return run;
      if (Date.now() > deadline)
        throw new Error(`run ${id} never got there: ${JSON.stringify(run).slice(0, 500)}`);
      await sleep(200);
    }
  }
}

/** /readyz's answer, whatever its status; null while nothing answers. */
export async function readyz(base: string): Promise<{
  status: number;
  body: { ready: boolean; checks: { name: string; ok: boolean; detail: string }[] };
} | null> {
  try {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as never };
  } catch {
    return null;
  }
}

/** Waits until /readyz answers at all and `until` holds for the answer; returns that answer. */
export async function waitForReadyz(
  base: string,
  until: (answer: NonNullable<Awaited<ReturnType<typeof readyz>>>) => boolean,
  timeoutMs: number,
  stillRunning: () => Promise<boolean>,
): Promise<NonNullable<Awaited<ReturnType<typeof readyz>>>> {
  const deadline = Date.now() + timeoutMs;
  let last: Awaited<ReturnType<typeof readyz>> = null;
  for (;;) {
    last = await readyz(base);
    if (last && until(last)) return last;
    if (!(await stillRunning()))
      throw new Error(`the container stopped; last /readyz: ${JSON.stringify(last)}`);
    if (Date.now() > deadline)
      throw new Error(`/readyz never got there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(500);
  }
}
