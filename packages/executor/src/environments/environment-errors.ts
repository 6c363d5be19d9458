/**
 * A run's environment cannot be had: no manifest, no registry allowed, an unknown name. The
 * user's request is at fault (run-path/user-fault.ts): refused at create, or the run ends
 * `failed` with this message.
 */
export class EnvironmentRefusedError extends Error {
  readonly userFault = true;
  readonly code = 'ENVIRONMENT_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentRefusedError';
  }
}

/** The install ran and failed (a package not found, a build error, a limit): the run fails. */
export class InstallFailedError extends Error {
  readonly userFault = true;
  readonly code = 'INSTALL_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'InstallFailedError';
  }
}
