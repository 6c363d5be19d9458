/** The Redis names runbox uses besides BullMQ's own (which live under `bull:<queue>:`). */
export interface ClusterKeys {
  /** The BullMQ queue of runs. */
  queueName: string;
  /** The stream every worker writes its runs' messages to, and the API reads. */
  messages: string;
  /** Pub/sub channel: a run id to cancel, heard by every worker. */
  cancelChannel: string;
  /** A run cancelled before a worker took it (set before its job is removed; a worker checks). */
  cancelled(runId: string): string;
  /** A worker's lease: a hash of what it says of itself, gone when it stops renewing. */
  worker(name: string): string;
  /** The names of workers that ever said hello (leases tell which are alive). */
  workers: string;
  /**
   * Set by the API when it starts; gone means Redis lost its data (restarted without
   * persistence), and the API queues its waiting runs again.
   */
  epoch: string;
  /** Which worker runs a run (set when it starts, removed when its result is written). */
  runningOn(runId: string): string;
  /** The id of the last message stream entry the API handled (and stored the events of). */
  relayCursor: string;
  /** A worker asked to take no more jobs. */
  drain(name: string): string;
  /** An interactive run's input (stdin, its end, signals, resizes), in order (run-input.ts). */
  runInput(runId: string): string;
  /** Which worker (its name and process instance) a session's kernel lives on (session-commands.ts). */
  sessionOn(sessionId: string): string;
  /** The commands of the API to one worker process's sessions, in order. */
  sessionCommands(instance: string): string;
}

export function clusterKeys(prefix = 'runbox'): ClusterKeys {
  return {
    queueName: `${prefix}-runs`,
    messages: `${prefix}:messages`,
    cancelChannel: `${prefix}:cancel`,
    cancelled: (runId) => `${prefix}:cancelled:${runId}`,
    worker: (name) => `${prefix}:worker:${name}`,
    workers: `${prefix}:workers`,
    epoch: `${prefix}:epoch`,
    runningOn: (runId) => `${prefix}:running-on:${runId}`,
    relayCursor: `${prefix}:relay-cursor`,
    drain: (name) => `${prefix}:drain:${name}`,
    runInput: (runId) => `${prefix}:run-input:${runId}`,
    sessionOn: (sessionId) => `${prefix}:session-on:${sessionId}`,
    sessionCommands: (instance) => `${prefix}:session-commands:${instance}`,
  };
}
