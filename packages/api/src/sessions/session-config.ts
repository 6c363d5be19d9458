import { ConfigError } from '@runbox/executor';
import { z } from 'zod';

/** Sessions' settings (docs/sessions.md), read from the server's variables here. */
export interface SessionConfig {
  /** Open (active or hibernated) sessions one owner may have. */
  perOwner: number;
  /** Open sessions on this server, all owners together. */
  inAll: number;
  /** Idle time before a session hibernates, when its create does not say. */
  defaultIdleTtlMs: number;
  /** The longest idle TTL a session may ask for. */
  maxIdleTtlMs: number;
  /** The longest (and the default) lifetime of a session: then it is closed. */
  maxLifetimeMs: number;
  /** Bytes of JSON a snapshot of a session's variables holds at most. */
  snapshotMaxBytes: number;
  /** A cell still running this long after its interrupt has its kernel killed (and restarted). */
  interruptGraceMs: number;
  /** Cells waiting behind the running one, per session. */
  maxWaitingCells: number;
  /** How often idle sessions are hibernated and expired ones closed. */
  sweepMs: number;
}

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const sessionEnvSchema = z.object({
  RUNBOX_SESSIONS_PER_OWNER: intFrom(0, 10_000).default(3),
  RUNBOX_SESSIONS_MAX: intFrom(0, 100_000).default(32),
  RUNBOX_SESSION_IDLE_TTL_MS: intFrom(1_000, 30 * 86_400_000).default(600_000),
  RUNBOX_SESSION_MAX_IDLE_TTL_MS: intFrom(1_000, 30 * 86_400_000).default(86_400_000),
  RUNBOX_SESSION_MAX_LIFETIME_MS: intFrom(10_000, 365 * 86_400_000).default(86_400_000),
  RUNBOX_SESSION_SNAPSHOT_MAX_BYTES: intFrom(0, 64 * 1024 * 1024).default(1024 * 1024),
  RUNBOX_SESSION_INTERRUPT_GRACE_MS: intFrom(100, 60_000).default(2_000),
  RUNBOX_SESSION_MAX_WAITING_CELLS: intFrom(1, 1_000).default(16),
  RUNBOX_SESSION_SWEEP_MS: intFrom(50, 600_000).default(5_000),
});

export function sessionConfigFrom(env: NodeJS.ProcessEnv): SessionConfig {
  const parsed = sessionEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? '?'), issue?.message ?? 'invalid');
  }
  const value = parsed.data;
  if (value.RUNBOX_SESSION_IDLE_TTL_MS > value.RUNBOX_SESSION_MAX_IDLE_TTL_MS)
    throw new ConfigError(
      'RUNBOX_SESSION_IDLE_TTL_MS',
      'must not be more than RUNBOX_SESSION_MAX_IDLE_TTL_MS',
    );
  return {
    perOwner: value.RUNBOX_SESSIONS_PER_OWNER,
    inAll: value.RUNBOX_SESSIONS_MAX,
    defaultIdleTtlMs: value.RUNBOX_SESSION_IDLE_TTL_MS,
    maxIdleTtlMs: value.RUNBOX_SESSION_MAX_IDLE_TTL_MS,
    maxLifetimeMs: value.RUNBOX_SESSION_MAX_LIFETIME_MS,
    snapshotMaxBytes: value.RUNBOX_SESSION_SNAPSHOT_MAX_BYTES,
    interruptGraceMs: value.RUNBOX_SESSION_INTERRUPT_GRACE_MS,
    maxWaitingCells: value.RUNBOX_SESSION_MAX_WAITING_CELLS,
    sweepMs: value.RUNBOX_SESSION_SWEEP_MS,
  };
}
