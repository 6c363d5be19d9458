import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * TEST SCAFFOLDING: a real HTTP receiver of callbacks on loopback, answering from a script (the
 * n-th request gets the n-th answer, the last answer repeats) and keeping every request.
 */

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Bytes of body to send back. */
  bodyBytes?: number;
  /** Never answer (the sender's timeout or abort must end it). */
  hang?: boolean;
}

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with; null when it was left hanging. */
  answeredWith: number | null;
  /** Whether the whole answer went out (false: the sender closed the connection first). */
  answerFinished: boolean;
}

export interface Receiver {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaces the answers still to come. */
  script(answers: readonly ScriptedAnswer[]): void;
  /** Resolves when `count` requests arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(
  answers: readonly ScriptedAnswer[] = [{ status: 200 }],
): Promise<Receiver> {
  let queue = [...answers];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = (queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 200 };
      const entry: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answeredWith: answer.hang ? null : answer.status,
        answerFinished: false,
      };
      requests.push(entry);
      for (const wake of waiters) wake();
      if (answer.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.on('finish', () => {
        entry.answerFinished = true;
      });
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.bodyBytes ? Buffer.alloc(answer.bodyBytes, 0x61) : undefined);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script(next) {
      queue = [...next];
    },
    waitFor(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(requests.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `the receiver got ${requests.length} requests, not ${count}, in ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
