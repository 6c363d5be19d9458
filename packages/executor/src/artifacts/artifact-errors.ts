/** Options of collectArtifacts or the store that are not what they must be; runbox's own bug. */
export class ArtifactOptionsError extends Error {
  readonly code = 'INVALID_ARTIFACT_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactOptionsError';
  }
}

/** A run id or an artifact path from outside that is not a plain name: refused before any I/O. */
export class InvalidArtifactPathError extends Error {
  readonly code = 'INVALID_ARTIFACT_PATH';
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`artifact path ${JSON.stringify(path)} is refused: ${reason}`);
    this.name = 'InvalidArtifactPathError';
    this.path = path;
  }
}

/** No artifact of that run at that path that can be downloaded (a link is listed, never served). */
export class ArtifactNotFoundError extends Error {
  readonly code = 'ARTIFACT_NOT_FOUND';
  readonly runId: string;
  readonly path: string;
  constructor(runId: string, path: string, reason = 'no such artifact') {
    super(`run ${runId}: ${JSON.stringify(path)}: ${reason}`);
    this.name = 'ArtifactNotFoundError';
    this.runId = runId;
    this.path = path;
  }
}
