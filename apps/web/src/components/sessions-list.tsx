'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import {
  environmentChoices,
  environmentInput,
  NO_ENVIRONMENT,
  pickedEnvironment,
} from '@/lib/environments';
import { formatDuration, formatTime } from '@/lib/format';
import { SESSION_LANGUAGE_NAMES, sessionStateWords, sessionTitle } from '@/lib/session-format';
import { errorMessage, useTRPC } from '@/lib/trpc';

const SESSION_LANGUAGES = ['python', 'javascript', 'typescript'] as const;
type SessionLanguage = (typeof SESSION_LANGUAGES)[number];

/** Minutes typed in the form, as the API's milliseconds; empty is the server's default. */
function idleTtlFrom(minutes: string): { idleTtlMs?: number } {
  const value = Number(minutes);
  return minutes.trim() && Number.isFinite(value) && value > 0
    ? { idleTtlMs: Math.round(value * 60_000) }
    : {};
}

/**
 * The caller's sessions, newest first, and a form that starts one (a kernel of its own that keeps
 * variables from cell to cell: docs/sessions.md).
 */
export function SessionsList() {
  const trpc = useTRPC();
  const router = useRouter();
  const [language, setLanguage] = useState<SessionLanguage>('python');
  const [idleMinutes, setIdleMinutes] = useState('');
  const [environment, setEnvironment] = useState<string>(NO_ENVIRONMENT);
  const environments = useQuery(trpc.environments.list.queryOptions());
  // A session has no project: the server's named environments only.
  const environmentList = environmentChoices(environments.data, { kind: 'snippet' });
  const picked = pickedEnvironment(environment, environmentList);
  const sessions = useQuery({
    ...trpc.sessions.list.queryOptions({ limit: 50 }),
    refetchInterval: 10_000,
  });
  const create = useMutation(
    trpc.sessions.create.mutationOptions({
      onSuccess: (session) => router.push(`/sessions/${session.id}`),
    }),
  );

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ language, ...idleTtlFrom(idleMinutes), ...environmentInput(picked) });
  };

  return (
    <div>
      <h1>Sessions</h1>
      <p className="muted">
        A session is a notebook: each cell runs in the same sandboxed kernel, so what one cell
        defines the next one uses. An idle session hibernates and wakes with its JSON variables.
      </p>
      <form className="card" onSubmit={onSubmit} aria-labelledby="new-session-title">
        <h2 id="new-session-title">New session</h2>
        <div className="row" style={{ alignItems: 'end' }}>
          <div className="field">
            <label htmlFor="session-language">Language</label>
            <select
              id="session-language"
              value={language}
              onChange={(e) => setLanguage(e.target.value as SessionLanguage)}
            >
              {SESSION_LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {SESSION_LANGUAGE_NAMES[l]}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="session-idle">
              Hibernate after idle <span className="hint">(minutes, optional)</span>
            </label>
            <input
              id="session-idle"
              type="number"
              min={1}
              step={1}
              value={idleMinutes}
              placeholder="server default"
              onChange={(e) => setIdleMinutes(e.target.value)}
              style={{ width: 160 }}
            />
          </div>
          {environmentList.length > 1 && (
            <div className="field">
              <label htmlFor="session-environment">
                Environment <span className="hint">(packages every cell imports)</span>
              </label>
              <select
                id="session-environment"
                value={picked}
                onChange={(e) => setEnvironment(e.target.value)}
              >
                {environmentList.map((choice) => (
                  <option
                    key={choice.value}
                    value={choice.value}
                    disabled={choice.unavailable !== null}
                    title={choice.unavailable ?? choice.packages ?? undefined}
                  >
                    {choice.label}
                    {choice.unavailable !== null ? ' (unavailable here)' : ''}
                  </option>
                ))}
              </select>
            </div>
          )}
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Starting…' : 'Start a session'}
          </button>
        </div>
        {create.error && (
          <div className="alert error" role="alert" style={{ marginTop: 'var(--space-3)' }}>
            <strong>The session was refused.</strong> {errorMessage(create.error)}
          </div>
        )}
      </form>

      <section className="card" aria-labelledby="your-sessions-title">
        <h2 id="your-sessions-title">Your sessions</h2>
        {sessions.isPending ? (
          <p className="muted">Loading your sessions…</p>
        ) : sessions.isError ? (
          <div className="alert error" role="alert">
            Could not load your sessions: {errorMessage(sessions.error)}
          </div>
        ) : sessions.data.sessions.length === 0 ? (
          <p className="muted">No sessions yet: start one above.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">State</th>
                <th scope="col">Cells</th>
                <th scope="col">Started</th>
                <th scope="col">Last active</th>
                <th scope="col">Idle time</th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.sessions.map((session) => {
                const words = sessionStateWords(session);
                return (
                  <tr key={session.id} data-session-id={session.id}>
                    <td>
                      <Link href={`/sessions/${session.id}`}>{sessionTitle(session.language)}</Link>
                      <div className="muted small mono">{session.id.slice(0, 12)}</div>
                    </td>
                    <td>
                      <span className={`badge tone-${words.tone}`}>{words.label}</span>
                    </td>
                    <td className="num">{session.cells.length}</td>
                    <td className="num">{formatTime(session.createdAt)}</td>
                    <td className="num">{formatTime(session.lastActiveAt)}</td>
                    <td className="num">{formatDuration(session.idleTtlMs)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
