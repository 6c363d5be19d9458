'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { formatBytes, formatDuration } from '@/lib/format';
import { sessionStateWords, sessionTitle } from '@/lib/session-format';
import { errorMessage, useAdminTRPC } from '@/lib/trpc';
import { useNow } from '@/lib/use-now';

/** A session's idle time and memory change by the second; the list is asked this often. */
const POLL_MS = 3_000;

/**
 * Every open session on the server (active or hibernated, `sessions.adminList`): its owner,
 * language, state, age, idle time and its kernel's memory, with Close (`sessions.adminClose`:
 * its kernel ends, its cells stay in the history).
 */
export function SessionsSection({ enabled }: { enabled: boolean }) {
  const trpc = useAdminTRPC();
  const sessions = useQuery({
    ...trpc.sessions.adminList.queryOptions({ limit: 200 }),
    enabled,
    refetchInterval: POLL_MS,
  });
  const close = useMutation(
    trpc.sessions.adminClose.mutationOptions({ onSuccess: () => void sessions.refetch() }),
  );
  const now = useNow(enabled, 1_000);
  const list = sessions.data?.sessions;

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions{list ? ` (${list.length})` : ''}</h2>
      {close.error && (
        <div className="alert error" role="alert">
          {errorMessage(close.error)}
        </div>
      )}
      {sessions.isPending ? (
        <p className="muted">Loading…</p>
      ) : sessions.isError ? (
        <p className="alert error">{errorMessage(sessions.error)}</p>
      ) : sessions.data.sessions.length === 0 ? (
        <p className="muted">No session is open.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Owner</th>
              <th scope="col">Language</th>
              <th scope="col">State</th>
              <th scope="col">Age</th>
              <th scope="col">Idle</th>
              <th scope="col">Memory</th>
              <th scope="col">Cells</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.sessions.map((session) => {
              const words = sessionStateWords(session);
              const closing = close.isPending && close.variables?.id === session.id;
              return (
                <tr key={session.id} data-session-id={session.id}>
                  <td className="mono">{session.id.slice(0, 12)}</td>
                  <td className="mono">{session.owner?.slice(0, 12) ?? '—'}</td>
                  <td>{sessionTitle(session.language).replace(/ session$/, '')}</td>
                  <td>
                    <span className={`badge tone-${words.tone}`}>{words.label}</span>
                  </td>
                  <td className="num">{formatDuration(Math.max(0, now - session.createdAt))}</td>
                  <td className="num">
                    {session.busy
                      ? 'running a cell'
                      : formatDuration(Math.max(0, now - session.lastActiveAt))}
                  </td>
                  <td className="num">{formatBytes(session.memoryBytes)}</td>
                  <td className="num">{session.cells.length}</td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      disabled={closing}
                      onClick={() => close.mutate({ id: session.id })}
                      aria-label={`Close session ${session.id}`}
                    >
                      {closing ? 'Closing…' : 'Close'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
