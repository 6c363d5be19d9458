/** The REST surface's settings, read from the server's variables (config.ts validates them). */
export interface RestConfig {
  /** Longest a `wait=true` call waits for the run's end before it answers 202; 0: never waits. */
  waitMaxMs: number;
  /** UTF-8 bytes of stdout, and of stderr, one output answer carries at most. */
  outputMaxBytes: number;
  /** How often an event stream that has sent nothing gets a comment line. */
  sseHeartbeatMs: number;
}

export function restConfigFrom(env: {
  RUNBOX_REST_WAIT_MAX_MS: number;
  RUNBOX_REST_OUTPUT_MAX_BYTES: number;
  RUNBOX_REST_SSE_HEARTBEAT_MS: number;
}): RestConfig {
  return {
    waitMaxMs: env.RUNBOX_REST_WAIT_MAX_MS,
    outputMaxBytes: env.RUNBOX_REST_OUTPUT_MAX_BYTES,
    sseHeartbeatMs: env.RUNBOX_REST_SSE_HEARTBEAT_MS,
  };
}
