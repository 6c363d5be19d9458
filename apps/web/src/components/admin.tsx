'use client';
import { QueryClient, QueryClientProvider, useMutation, useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import Link from 'next/link';
import { useEffect, useMemo, useState, useSyncExternalStore, type FormEvent } from 'react';
import { CallbacksSection } from '@/components/admin-callbacks';
import { ThroughputChart, WaitChart, type Bucket } from '@/components/admin-charts';
import { SessionsSection } from '@/components/admin-sessions';
import { WarmSandboxesSection } from '@/components/admin-warm';
import { WorkersSection } from '@/components/admin-workers';
import { describeState, formatBytes, formatDuration, runTitle } from '@/lib/format';
import {
  AdminTRPCProvider,
  createRunboxClient,
  errorMessage,
  useAdminTRPC,
  type RunboxClient,
} from '@/lib/trpc';

const TOKEN_KEY = 'runbox-admin-token';

/** The run and owner columns every queue table starts with. */
function RunCells({
  run,
}: {
  run: Parameters<typeof runTitle>[0] & { id: string; owner?: string };
}) {
  return (
    <>
      <td>
        {runTitle(run)} <div className="muted small mono">{run.id.slice(0, 12)}</div>
      </td>
      <td className="mono">{run.owner?.slice(0, 12) ?? '—'}</td>
    </>
  );
}

function CancelButton({ id, onCancel }: { id: string; onCancel: (id: string) => void }) {
  return (
    <button
      type="button"
      className="danger"
      onClick={() => onCancel(id)}
      aria-label={`Cancel run ${id}`}
    >
      Cancel
    </button>
  );
}

function AdminClientProvider({ token, children }: { token: string; children: React.ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
      }),
  );
  const [runbox, setRunbox] = useState<RunboxClient | null>(null);
  useEffect(() => {
    const client = createRunboxClient(token);
    setRunbox(client);
    return () => client.close();
  }, [token]);
  if (!runbox) return null;
  return (
    <QueryClientProvider client={queryClient}>
      <AdminTRPCProvider trpcClient={runbox.client} queryClient={queryClient}>
        <AdminSocketBadge runbox={runbox} />
        {children}
      </AdminTRPCProvider>
    </QueryClientProvider>
  );
}

function AdminSocketBadge({ runbox }: { runbox: RunboxClient }) {
  const state = useSyncExternalStore(
    runbox.status.subscribe,
    runbox.status.get,
    () => 'connecting' as const,
  );
  if (state !== 'reconnecting') return null;
  return (
    <p className="reconnecting" role="status">
      <span className="spinner" aria-hidden="true" /> reconnecting…
    </p>
  );
}

function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <form
      className="card"
      onSubmit={submit}
      style={{ maxWidth: 480 }}
      aria-labelledby="signin-title"
    >
      <h2 id="signin-title">Sign in</h2>
      <p className="muted small">
        The admin token is printed when runbox starts (or set with RUNBOX_ADMIN_TOKEN). It is kept
        in this tab only.
      </p>
      <div className="field">
        <label htmlFor="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autoComplete="current-password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
      </div>
      <div className="row" style={{ marginTop: 'var(--space-3)' }}>
        <button type="submit" className="primary" disabled={!value.trim()}>
          Sign in
        </button>
      </div>
    </form>
  );
}

const BUCKET_MS = 5 * 60_000;

function buckets(
  runs: { queuedAt: number; startedAt: number | null; finishedAt: number | null; state: string }[],
  now: number,
): Bucket[] {
  const start = now - 60 * 60_000;
  const out: (Bucket & { waitSum: number; waitCount: number })[] = [];
  for (let t = start; t < now; t += BUCKET_MS) {
    const d = new Date(t + BUCKET_MS);
    out.push({
      label: `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`,
      finished: 0,
      failed: 0,
      waitS: null,
      waitSum: 0,
      waitCount: 0,
    });
  }
  for (const run of runs) {
    if (run.finishedAt && run.finishedAt >= start) {
      const b = out[Math.min(out.length - 1, Math.floor((run.finishedAt - start) / BUCKET_MS))];
      if (b) {
        if (run.state === 'completed') b.finished++;
        else b.failed++;
      }
    }
    if (run.startedAt && run.startedAt >= start) {
      const b = out[Math.min(out.length - 1, Math.floor((run.startedAt - start) / BUCKET_MS))];
      if (b) {
        b.waitSum += run.startedAt - run.queuedAt;
        b.waitCount++;
      }
    }
  }
  return out.map(({ waitSum, waitCount, ...b }) => ({
    ...b,
    waitS: waitCount ? Math.round((waitSum / waitCount / 1000) * 10) / 10 : null,
  }));
}

function Dashboard({ onSignOut }: { onSignOut: () => void }) {
  const trpc = useAdminTRPC();
  const initial = useQuery(trpc.admin.queue.queryOptions());
  const live = useSubscription({
    ...trpc.admin.onQueue.subscriptionOptions(),
    enabled: initial.isSuccess,
  });
  const queue = live.data ?? initial.data;
  const pause = useMutation(trpc.admin.pause.mutationOptions());
  const resume = useMutation(trpc.admin.resume.mutationOptions());
  const cancel = useMutation(trpc.admin.cancel.mutationOptions());
  const setConcurrency = useMutation(trpc.admin.setConcurrency.mutationOptions());
  const selfTest = useQuery({ ...trpc.admin.selfTest.queryOptions(), enabled: initial.isSuccess });
  const limits = useQuery({ ...trpc.admin.rateLimits.queryOptions(), enabled: initial.isSuccess });
  const setLimits = useMutation(
    trpc.admin.setRateLimits.mutationOptions({ onSuccess: () => void limits.refetch() }),
  );
  const history = useQuery({
    ...trpc.admin.runs.queryOptions({ limit: 500 }),
    enabled: initial.isSuccess,
    refetchInterval: 15_000,
  });
  const [concurrency, setConcurrencyValue] = useState('');
  // True while the admin types a new value: the live queue must not overwrite it.
  const [editingConcurrency, setEditingConcurrency] = useState(false);
  const [runsPerHour, setRunsPerHour] = useState('');
  const [perOwner, setPerOwner] = useState('');
  const liveConcurrency = queue?.concurrency;
  useEffect(() => {
    // Follows the server (another admin may change it) unless a new value is being typed.
    if (liveConcurrency !== undefined && !editingConcurrency)
      setConcurrencyValue(String(liveConcurrency));
  }, [liveConcurrency, editingConcurrency]);
  useEffect(() => {
    if (limits.data) {
      setRunsPerHour(String(limits.data.runsPerHour));
      setPerOwner(String(limits.data.concurrentRunsPerOwner));
    }
  }, [limits.data]);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(t);
  }, []);
  const chartData = useMemo(() => buckets(history.data?.runs ?? [], now), [history.data, now]);
  // The server sends the queue only when it changes; waited and elapsed times go on counting here,
  // from when the view arrived (the browser's clock may differ from the server's).
  const [clock, setClock] = useState(() => Date.now());
  const [receivedAt, setReceivedAt] = useState(() => Date.now());
  useEffect(() => {
    setReceivedAt(Date.now());
    setClock(Date.now());
  }, [live.data, initial.data]);
  useEffect(() => {
    const t = setInterval(() => setClock(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  const sinceView = Math.max(0, clock - receivedAt);

  if (initial.isPending) return <p className="muted">Checking the token…</p>;
  if (initial.isError) {
    const unauthorized =
      (initial.error as { data?: { code?: string } }).data?.code === 'UNAUTHORIZED';
    return (
      <div className="card" role="alert">
        <h2>
          {unauthorized ? 'That token is not the admin token' : 'The admin page could not load'}
        </h2>
        <p className="muted">{errorMessage(initial.error)}</p>
        <button type="button" onClick={onSignOut}>
          Try another token
        </button>
      </div>
    );
  }
  if (!queue) return null;
  const mutationError =
    pause.error ?? resume.error ?? cancel.error ?? setConcurrency.error ?? setLimits.error;

  return (
    <div>
      <div className="run-head">
        <span className={`badge ${queue.paused ? 'tone-warn' : 'tone-good'}`}>
          {queue.paused ? 'Queue paused' : 'Queue running'}
        </span>
        <span className="muted small">
          {queue.waiting.length} waiting · {queue.running.length} of {queue.concurrency} slots busy
          · max queue {queue.maxQueueLength} · next wait {formatDuration(queue.estimatedWaitMs)}
        </span>
        <button type="button" onClick={onSignOut} style={{ marginLeft: 'auto' }}>
          Sign out
        </button>
      </div>
      {mutationError && (
        <div className="alert error" role="alert">
          {errorMessage(mutationError)}
        </div>
      )}

      <section className="card" aria-labelledby="controls-title">
        <h2 id="controls-title">Controls</h2>
        <div className="toolbar">
          {queue.paused ? (
            <button
              type="button"
              className="primary"
              onClick={() => resume.mutate()}
              disabled={resume.isPending}
            >
              Resume the queue
            </button>
          ) : (
            <button type="button" onClick={() => pause.mutate()} disabled={pause.isPending}>
              Pause the queue
            </button>
          )}
          <form
            className="row"
            style={{ alignItems: 'end' }}
            onSubmit={(e) => {
              e.preventDefault();
              const n = Number(concurrency);
              if (Number.isInteger(n) && n >= 1) setConcurrency.mutate({ concurrency: n });
              setEditingConcurrency(false);
            }}
          >
            <div className="field">
              <label htmlFor="concurrency">Concurrency</label>
              <input
                id="concurrency"
                type="number"
                min={1}
                max={256}
                value={concurrency}
                onChange={(e) => {
                  setEditingConcurrency(true);
                  setConcurrencyValue(e.target.value);
                }}
                style={{ width: 100 }}
              />
            </div>
            <button type="submit" disabled={setConcurrency.isPending}>
              Set
            </button>
          </form>
          <form
            className="row"
            style={{ alignItems: 'end' }}
            onSubmit={(e) => {
              e.preventDefault();
              setLimits.mutate({
                runsPerHour: Number(runsPerHour),
                concurrentRunsPerOwner: Number(perOwner),
              });
            }}
          >
            <div className="field">
              <label htmlFor="runs-per-hour">Runs per hour, per owner</label>
              <input
                id="runs-per-hour"
                type="number"
                min={1}
                value={runsPerHour}
                onChange={(e) => setRunsPerHour(e.target.value)}
                style={{ width: 120 }}
              />
            </div>
            <div className="field">
              <label htmlFor="per-owner">Concurrent runs per owner</label>
              <input
                id="per-owner"
                type="number"
                min={1}
                value={perOwner}
                onChange={(e) => setPerOwner(e.target.value)}
                style={{ width: 120 }}
              />
            </div>
            <button type="submit" disabled={setLimits.isPending || !limits.data}>
              Save rate limits
            </button>
          </form>
        </div>
      </section>

      <section className="card" aria-labelledby="running-title">
        <h2 id="running-title">Running ({queue.running.length})</h2>
        {queue.running.length === 0 ? (
          <p className="muted">Nothing is running.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Owner</th>
                <th scope="col">Elapsed</th>
                <th scope="col">CPU</th>
                <th scope="col">Memory</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {queue.running.map((run) => (
                <tr key={run.id}>
                  <RunCells run={run} />
                  <td className="num">{formatDuration(run.elapsedMs + sinceView)}</td>
                  <td className="num">{formatDuration(run.liveUsage?.cpuMs ?? null)}</td>
                  <td className="num">{formatBytes(run.liveUsage?.memoryBytes ?? null)}</td>
                  <td>
                    <CancelButton id={run.id} onCancel={(id) => cancel.mutate({ id })} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="waiting-title">
        <h2 id="waiting-title">Waiting ({queue.waiting.length})</h2>
        {queue.waiting.length === 0 ? (
          <p className="muted">The queue is empty.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Run</th>
                <th scope="col">Owner</th>
                <th scope="col">Waited</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {queue.waiting.map((run, i) => (
                <tr key={run.id}>
                  <td className="num">{i + 1}</td>
                  <RunCells run={run} />
                  <td className="num">{formatDuration(run.waitedMs + sinceView)}</td>
                  <td>
                    <CancelButton id={run.id} onCancel={(id) => cancel.mutate({ id })} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <SessionsSection enabled={initial.isSuccess} />
      <WorkersSection enabled={initial.isSuccess} />
      <WarmSandboxesSection enabled={initial.isSuccess} />

      <div className="grid-2">
        <section className="card" aria-labelledby="throughput-title">
          <h2 id="throughput-title">Runs finished, last hour</h2>
          <ThroughputChart data={chartData} />
        </section>
        <section className="card" aria-labelledby="wait-title">
          <h2 id="wait-title">Average wait, last hour</h2>
          <WaitChart data={chartData} />
        </section>
      </div>

      <section className="card" aria-labelledby="ended-title">
        <h2 id="ended-title">Recently ended</h2>
        {queue.ended.length === 0 ? (
          <p className="muted">No run has ended yet.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Owner</th>
                <th scope="col">State</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {queue.ended.map((run) => {
                const words = describeState(run);
                return (
                  <tr key={run.id}>
                    <RunCells run={run} />
                    <td>
                      <span className={`badge tone-${words.tone}`}>{words.label}</span>
                    </td>
                    <td className="num">{formatDuration(run.durationMs)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <CallbacksSection enabled={initial.isSuccess} />

      <section className="card" aria-labelledby="selftest-title">
        <div className="card-title">
          <h2 id="selftest-title">Sandbox self-test</h2>
          {selfTest.data && (
            <span className={`badge ${selfTest.data.ok ? 'tone-good' : 'tone-bad'}`}>
              {selfTest.data.ok ? 'every layer holds' : 'a layer failed'}
            </span>
          )}
        </div>
        {selfTest.isPending ? (
          <p className="muted">Loading…</p>
        ) : selfTest.isError ? (
          <p className="alert error">{errorMessage(selfTest.error)}</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Layer</th>
                <th scope="col">Mechanism</th>
                <th scope="col">Result</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {selfTest.data.checks.map((check) => (
                <tr key={check.layer}>
                  <td>{check.layer}</td>
                  <td className="mono">{check.mechanism}</td>
                  <td>
                    <span className={`badge ${check.ok ? 'tone-good' : 'tone-bad'}`}>
                      {check.ok ? 'ok' : 'failed'}
                    </span>
                  </td>
                  <td className="small">{check.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

export function Admin() {
  const [token, setToken] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    setToken(sessionStorage.getItem(TOKEN_KEY));
    setLoaded(true);
  }, []);
  const signIn = (value: string) => {
    sessionStorage.setItem(TOKEN_KEY, value);
    setToken(value);
  };
  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
  };
  return (
    <div>
      <h1>Admin</h1>
      {!loaded ? null : token ? (
        <AdminClientProvider key={token} token={token}>
          <Dashboard onSignOut={signOut} />
        </AdminClientProvider>
      ) : (
        <>
          <SignIn onToken={signIn} />
          <p className="muted small">
            Not an admin? <Link href="/">Start a run</Link> instead.
          </p>
        </>
      )}
    </div>
  );
}
