import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { httpClient, socketClient } from './support/clients.ts';
import { follow } from './support/follow.ts';
import { startBenchServer } from './support/server.ts';
import { ms, percentile, section, within } from './support/stats.ts';

/**
 * Issue 14's figures: a one-call REST run against the tRPC create + subscribe it replaces, and
 * a signed callback's delivery from the run's end to the receiver's 200.
 */

const RUNS = 100;
const WARMUP = 10;
const TARGET_REST_OVERHEAD_MS = 2;
const TARGET_CALLBACK_P95_MS = 200;
const echo = { kind: 'snippet', language: 'bash', code: 'echo hi' } as const;

/** A receiver on loopback that answers 200 and notes when each delivery's run arrived. */
function startReceiver(): Promise<{ server: Server; url: string; arrivals: Map<string, number> }> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          data?: { id?: string };
        };
        if (body.data?.id) arrivals.set(body.data.id, at);
      } catch {
        // not a run's delivery
      }
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/hook`, arrivals });
    });
  });
}

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const bench = await startBenchServer({
  RUNBOX_CONCURRENCY: '2',
  RUNBOX_RUNS_PER_HOUR: '1000000',
  RUNBOX_CONCURRENT_RUNS_PER_OWNER: '10000',
  RUNBOX_CALLBACK_SECRET: secret,
  RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.1',
});
const base = bench.trpcUrl.replace(/\/api\/trpc$/, '');
const adminHeaders = { 'x-runbox-admin-token': bench.token, 'content-type': 'application/json' };

try {
  await section(`clients: REST wait=true against tRPC create + subscribe, ${RUNS} runs each`, () =>
    within(
      (async () => {
        const http = httpClient(bench.trpcUrl, bench.token);
        const socket = socketClient(bench.wsUrl, bench.token);
        try {
          const rest: number[] = [];
          const trpc: number[] = [];
          for (let i = 0; i < WARMUP + RUNS; i++) {
            let start = performance.now();
            const id = (await http.runs.create.mutate(echo)).id;
            await follow(socket.api, id, () => {}, 10_000).done;
            const trpcMs = performance.now() - start;
            start = performance.now();
            const answer = await fetch(`${base}/api/v1/runs?wait=true`, {
              method: 'POST',
              headers: adminHeaders,
              body: JSON.stringify(echo),
            });
            const body = (await answer.json()) as { stdout?: string };
            const restMs = performance.now() - start;
            if (answer.status !== 200 || body.stdout !== 'hi\n')
              throw new Error(`REST answered ${answer.status}: ${JSON.stringify(body)}`);
            if (i < WARMUP) continue;
            trpc.push(trpcMs);
            rest.push(restMs);
          }
          const overhead = percentile(rest, 50) - percentile(trpc, 50);
          console.log(`create to the finished run's output of bash \`echo hi\`, interleaved`);
          console.log(
            `  tRPC create + WS subscribe to the end  p50 ${ms(percentile(trpc, 50))}  p95 ${ms(percentile(trpc, 95))}  (baseline)`,
          );
          console.log(
            `  REST POST /api/v1/runs?wait=true       p50 ${ms(percentile(rest, 50))}  p95 ${ms(percentile(rest, 95))}`,
          );
          console.log(
            `  overhead at p50 ${overhead >= 0 ? '+' : ''}${ms(overhead)} (target <= ${TARGET_REST_OVERHEAD_MS} ms: ${overhead <= TARGET_REST_OVERHEAD_MS ? 'met' : 'MISSED'})`,
          );
        } finally {
          await socket.close();
        }
      })(),
      180_000,
      'REST against tRPC',
    ),
  );

  await section(`clients: signed callback from the run's end to the receiver, ${RUNS} runs`, () =>
    within(
      (async () => {
        const receiver = await startReceiver();
        const http = httpClient(bench.trpcUrl, bench.token);
        try {
          const fromEnd: number[] = [];
          const fromExit: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const run = await http.runs.create.mutate({ ...echo, callbackUrl: receiver.url });
            for (let tries = 0; tries < 4_000 && !receiver.arrivals.has(run.id); tries++)
              await new Promise((resolve) => setTimeout(resolve, 2));
            const arrived = receiver.arrivals.get(run.id);
            if (arrived === undefined) throw new Error(`run ${run.id}: no delivery arrived`);
            // The delivery row is written in the transaction of the end state: its createdAt is
            // the end state's time.
            const [delivery] = await http.runs.deliveries.query({ id: run.id });
            const view = await http.runs.get.query({ id: run.id });
            if (!delivery || view.finishedAt === null) throw new Error(`run ${run.id}: no end`);
            fromEnd.push(arrived - delivery.createdAt);
            fromExit.push(arrived - view.finishedAt);
          }
          const p95 = percentile(fromEnd, 95);
          console.log(
            `a signed callback to a receiver on loopback answering 200, ${RUNS} runs (clock: ms)`,
          );
          console.log(
            `  from the end state (the outbox row)    p50 ${ms(percentile(fromEnd, 50))}  p95 ${ms(p95)}  max ${ms(Math.max(...fromEnd))} (target p95 <= ${TARGET_CALLBACK_P95_MS} ms: ${p95 <= TARGET_CALLBACK_P95_MS ? 'met' : 'MISSED'})`,
          );
          console.log(
            `  from the program's exit (finishedAt)   p50 ${ms(percentile(fromExit, 50))}  p95 ${ms(percentile(fromExit, 95))}  (includes the run's clean-up and artifacts)`,
          );
        } finally {
          await new Promise((resolve) => receiver.server.close(resolve));
        }
      })(),
      180_000,
      'callbacks',
    ),
  );
} finally {
  await bench.stop(10_000);
}
process.exit();
