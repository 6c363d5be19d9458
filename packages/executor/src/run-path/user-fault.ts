/**
 * An error caused by what the user asked for (a project too large for its workspace, an entry
 * file the project lacks, a tool that does not apply), not by runbox. Found at create it refuses
 * the run with its rule; found while a run is prepared it ends the run `failed` with the reason,
 * never `error`, which is kept for runbox's own faults.
 */
export interface UserFault {
  readonly userFault: true;
  readonly message: string;
}

export function isUserFault(error: unknown): error is Error & UserFault {
  return (
    error instanceof Error &&
    'userFault' in error &&
    (error as { userFault: unknown }).userFault === true
  );
}
