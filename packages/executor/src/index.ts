export { createExecutor } from './engine/executor.ts';
export type {
  CheckedRun,
  DriverRunContext,
  RunDriver,
  Executor,
  ExecutorConfig,
  ExecutorHooks,
  QueueEntry,
  QueueSnapshot,
  RunRecord,
  SubmitOptions,
} from './engine/executor.ts';
export * from './engine/engine-errors.ts';
export { executeRun, notStartedResult, type ExecuteRunContext } from './engine/execute-run.ts';
export { syntaxCheckersOf } from './engine/syntax-check.ts';
export type { CheckerStats } from './validation/syntax-checker-pool.ts';
export { whenNoneRunning, type RunQueue } from './engine/run-queue.ts';
export { createWorkspaceInspector, type WorkspaceInspector } from './engine/workspace-inspector.ts';
export { ENGINE_DEFAULTS, type EngineDefaults } from './engine/engine-defaults.ts';
export { cutBatches, DEFAULT_BATCH_LIMITS, type BatchLimits } from './engine/event-batch.ts';
export { pageEvents, type EventSource } from './engine/event-pager.ts';
export {
  runInSandbox,
  type PreparedCommand,
  type RunPhase,
  type SandboxJob,
  type SandboxJobOutcome,
} from './run-path/run-in-sandbox.ts';
export { isUserFault, type UserFault } from './run-path/user-fault.ts';
export {
  createWarmSandboxes,
  type WarmPoolStats,
  type WarmSandboxes,
  type WarmSandboxesOptions,
  type WarmSandboxesSettings,
} from './run-path/warm-sandboxes.ts';
export { runSnippet, SnippetNotRunError } from './run-path/run-snippet.ts';
export {
  DENIED_ENV_NAMES,
  DENIED_ENV_PREFIXES,
  ENV_NAME_PATTERN,
  MAX_ARGS,
  MAX_ARGS_BYTES,
  MAX_ENV_BYTES,
  MAX_ENV_VARS,
  MAX_EXPECTED_OUTPUT_CHARS,
  MAX_FILE_NAME_BYTES,
  MAX_FILE_PATH_BYTES,
  MAX_FILE_PATH_DEPTH,
  MAX_SNIPPET_FILES,
  envNameRefusal,
  expectedOutputSchema,
  fileSetIssues,
  filePathRefusal,
  snippetArgsSchema,
  snippetEntryName,
  snippetEnvSchema,
  snippetFileSchema,
  snippetFilesSchema,
  snippetPathSchema,
  type FieldRefusal,
} from './engine/snippet-fields.ts';
export {
  comparableLines,
  VerdictJudge,
  verdictSchema,
  VERDICT_EXCERPT_CHARS,
  type Verdict,
} from './engine/verdict.ts';
export type {
  RunEvent,
  RunEventInput,
  RunEventType,
  RunResult,
  RunWarning,
  OutputStreamName,
} from './engine/run-events.ts';
export {
  runRequestSchema,
  snippetRequestSchema,
  toolRequestSchema,
  cellRequestSchema,
  outputFiltersSchema,
  environmentNameSchema,
  terminalSizeSchema,
  takesInput,
  type TerminalSize,
  runKindKey,
  MAX_STDIN_BYTES,
} from './engine/run-request.ts';
export type {
  CellRequest,
  OutputFilters,
  RunRequest,
  SnippetRequest,
  ToolRequest,
} from './engine/run-request.ts';
export type { ToolSupport } from './engine/tool-support.ts';
export type { Artifact, SkippedArtifact } from './artifacts/collect-artifacts.ts';
export { openArtifact, readArtifactList, removeArtifacts } from './artifacts/artifact-store.ts';
export * from './artifacts/artifact-errors.ts';
export { LineSplitterEndedError, LineSplitterOptionError } from './output/line-splitter.ts';
export {
  RUN_STATES,
  END_STATES,
  isEndState,
  canTransition,
  InvalidTransitionError,
  type RunState,
  type EndState,
} from './run-state.ts';
export { LANGUAGES, isLanguage, type Language } from './languages/index.ts';
export {
  ABSOLUTE_RANGES,
  DEFAULT_LIMITS,
  DEFAULT_MAXIMUMS,
  LIMIT_NAMES,
  LimitOutOfRangeError,
  limitsOverrideSchema,
  resolveLimits,
  type LimitsOverride,
  type SandboxLimits,
} from './sandbox/limits.ts';
export {
  createSandboxHost,
  SandboxHostError,
  type SandboxHost,
  type SandboxHostConfig,
} from './sandbox/sandbox-host.ts';
export { CgroupUnavailableError } from './sandbox/cgroup.ts';
export { UnsupportedArchError } from './sandbox/seccomp-filter.ts';
export { UnsafeWorkspacePathError } from './sandbox/safe-fs.ts';
export { runSelfTest, type SelfTestReport, type SelfTestCheck } from './sandbox/self-test.ts';
export { assertSandboxSafe, cachedSelfTest, UnsafeSandboxError } from './sandbox/self-test-gate.ts';
export { hostEnvFrom, type HostEnv } from './host-env.ts';
export {
  hostCapacity,
  MAXIMUM_VARIABLES,
  maximumsFromEnv,
  type HostCapacity,
} from './maximums-env.ts';
export { ConfigError } from './config-error.ts';
export {
  createEnvironmentStore,
  withEnvironment,
  type EnvironmentStore,
} from './environments/environment-store.ts';
export { baseSandboxEnv } from './sandbox/sandbox-environment.ts';
export type { KernelEnvironment } from './sessions/session-kernels.ts';
export { kernelEnvironment } from './sessions/kernel-environment.ts';
export {
  localSessionControl,
  type KernelStatus,
  type SessionControl,
} from './sessions/session-control.ts';
export { EnvironmentRefusedError, InstallFailedError } from './environments/environment-errors.ts';
export { EgressConfigError } from './environments/egress-allowlist.ts';
export { EgressProxyError } from './environments/egress-proxy.ts';
export { ForkerError } from './sandbox/sandbox-forker.ts';
export {
  PROJECT_ENVIRONMENT,
  type EnvironmentSettings,
  type NamedEnvironment,
} from './environments/environment-settings.ts';
export { claimSandboxDir, SandboxDirInUseError } from './sandbox/sandbox-dir-claim.ts';
export * from './validation/validation-errors.ts';
export { createToolCatalog, type ToolCatalog, type CatalogEntry } from './tools/tool-catalog.ts';
export {
  loadExamples,
  DEFAULT_EXAMPLES_DIR,
  ExampleError,
  type Example,
} from './tools/examples.ts';
export { ToolRegistryError, type Tool } from './tools/tool-schema.ts';
export type { ToolArguments, ToolOption, ToolValue } from './tools/tool-arguments.ts';
export { ToolArgvError } from './tools/tool-argv.ts';
export { ToolNotApplicableError } from './tools/tool-applies.ts';
export { ProjectCopyError, ProjectTooLargeError } from './tools/copy-project.ts';
export {
  linkTargetRefusal,
  MAX_LINK_TARGET_BYTES,
  type LinkRefusal,
  type LinkRefusalRule,
} from './project/link-target.ts';
export type { ProgramControl, ProgramSignal } from './sandbox/sandbox-run.ts';
export {
  createSessionKernels,
  noticeMessage,
  type CellWork,
  type SessionKernels,
  type SessionKernelsHooks,
  type SessionKernelsOptions,
  type SessionNotice,
  type SessionSpec,
} from './sessions/session-kernels.ts';
export type { SessionKernel, CellOptions, CellOutcome } from './sessions/session-kernel.ts';
export {
  kernelSnapshotSchema,
  lostVariableSchema,
  variableViewSchema,
  type KernelSnapshot,
  type LostVariable,
  type VariableView,
} from './sessions/kernel-messages.ts';
export {
  SESSION_LANGUAGES,
  isSessionLanguage,
  type SessionLanguage,
} from './sessions/session-languages.ts';
export * from './sessions/session-errors.ts';
