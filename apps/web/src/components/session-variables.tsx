'use client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { lostVariableText } from '@/lib/session-format';
import { errorDetails, errorMessage, useTRPC } from '@/lib/trpc';

/** A cell that has just ended may still hold the session for a moment: its variables wait. */
const BUSY_RETRIES = 8;

function isBusy(error: unknown): boolean {
  return errorDetails(error)?.code === 'SESSION_BUSY';
}

/**
 * The session's variables: name, type and the kernel's short representation of each (read from
 * the kernel when it runs, from the last snapshot while it sleeps). Asked again when a cell ends
 * (the page invalidates the query); not asked while a cell runs, when the kernel answers busy.
 */
export function SessionVariables(props: { id: string; busy: boolean; closed: boolean }) {
  const trpc = useTRPC();
  const variables = useQuery({
    ...trpc.sessions.variables.queryOptions({ id: props.id }),
    enabled: !props.busy && !props.closed,
    placeholderData: keepPreviousData,
    staleTime: 0,
    retry: (count, error) => isBusy(error) && count < BUSY_RETRIES,
    retryDelay: 250,
  });
  const data = variables.data;

  return (
    <section className="card" aria-labelledby="variables-title" data-testid="variables">
      <div className="card-title">
        <h2 id="variables-title">Variables</h2>
        {data && (
          <span className="muted small">
            {data.source === 'kernel' ? 'from the kernel' : 'from the last snapshot'}
          </span>
        )}
      </div>
      {props.closed ? (
        <p className="muted small">The session is closed: its variables are gone.</p>
      ) : props.busy && !data ? (
        <p className="muted small">A cell is running: the variables show when it ends.</p>
      ) : variables.isPending ? (
        <p className="muted small">Loading…</p>
      ) : variables.isError && !data ? (
        <p className="alert error">{errorMessage(variables.error)}</p>
      ) : data && data.variables.length === 0 ? (
        <p className="muted small">No variables yet.</p>
      ) : data ? (
        <table className="table variables-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {data.variables.map((variable) => (
              <tr key={variable.name} data-variable={variable.name}>
                <td className="mono">{variable.name}</td>
                <td className="mono muted">{variable.type}</td>
                <td className="mono variable-repr">{variable.repr}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {props.busy && data && (
        <p className="muted small" role="status">
          A cell is running: these are from before it.
        </p>
      )}
      {data && data.lost.length > 0 && (
        <p className="small" data-testid="lost-variables">
          <strong>Not kept if it hibernates:</strong> {data.lost.map(lostVariableText).join(', ')}
        </p>
      )}
    </section>
  );
}
