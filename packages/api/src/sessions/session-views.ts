import {
  environmentNameSchema,
  limitsOverrideSchema,
  lostVariableSchema,
  SESSION_LANGUAGES,
  variableViewSchema,
} from '@runbox/executor';
import { z } from 'zod';
import { runViewSchema } from '../schemas/run-views.ts';
import { SESSION_STATES } from '../store/session-store.ts';

/** The shapes of the sessions API (routers/sessions.ts, rest/sessions-operations.ts). */

export const sessionIdSchema = z.string().min(1).max(64);

export const createSessionInputSchema = z
  .object({
    language: z.enum(SESSION_LANGUAGES),
    /**
     * The session's limits: memory, processes, CPU, /tmp, workspace and open files hold for the
     * session's whole life, all its cells together; `wallTimeMs` and `outputBytes` are each
     * cell's own (a cell may ask for another time when it is run).
     */
    limits: limitsOverrideSchema.optional(),
    /** Idle this long (no cell waiting or running), the session hibernates. */
    idleTtlMs: z.number().int().min(1_000).optional(),
    /** Then the session is closed, however busy. */
    maxLifetimeMs: z.number().int().min(10_000).optional(),
    /**
     * A named environment the server declares (environments.list): its packages importable in
     * every cell. Installed when the kernel first starts, unless cached.
     */
    environment: environmentNameSchema.optional(),
  })
  .strict();
export type CreateSessionInput = z.infer<typeof createSessionInputSchema>;

export const runCellInputSchema = z
  .object({
    sessionId: sessionIdSchema,
    code: z.string().max(1_000_000, 'code is limited to 1,000,000 characters on the wire'),
    /** This cell's time; default the session's `limits.wallTimeMs`. */
    timeoutMs: z.number().int().min(1_000).optional(),
  })
  .strict();
export type RunCellInput = z.infer<typeof runCellInputSchema>;

export const sessionRefSchema = z.object({ id: sessionIdSchema }).strict();

/** A JSON value (what `JSON.parse` gives): checked, not just typed. */
const jsonValueSchema = z.unknown().refine(
  (value) => {
    try {
      return value !== undefined && JSON.stringify(value) !== undefined;
    } catch {
      return false;
    }
  },
  { message: 'must be a JSON value' },
);

export const setVariableInputSchema = z
  .object({
    id: sessionIdSchema,
    /** A name of the session's language: letters, digits and _ (and $ in JavaScript). */
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'a variable name: letters, digits, _ (and $)'),
    value: jsonValueSchema,
  })
  .strict();
export type SetVariableInput = z.infer<typeof setVariableInputSchema>;

export const sessionNoticeSchema = z.object({
  kind: z.enum(['started', 'woke', 'restarted']),
  at: z.number(),
  reason: z.string().nullable(),
  restored: z.array(z.string()),
  lost: z.array(lostVariableSchema),
});

export const cellSummarySchema = z.object({
  id: z.string(),
  state: runViewSchema.shape.state,
  queuedAt: z.number(),
  finishedAt: z.number().nullable(),
});

export const sessionViewSchema = z.object({
  id: z.string(),
  owner: z.string().optional(),
  language: z.enum(SESSION_LANGUAGES),
  state: z.enum(SESSION_STATES),
  /** Whether a kernel runs now (a hibernated session's next cell starts one). */
  kernel: z.enum(['running', 'stopped']),
  /** A cell is waiting or running. */
  busy: z.boolean(),
  limits: z.record(z.string(), z.number()),
  /** The named environment its kernel starts with; null for none. */
  environment: z.string().nullable(),
  idleTtlMs: z.number(),
  maxLifetimeMs: z.number(),
  createdAt: z.number(),
  lastActiveAt: z.number(),
  /** When it hibernates if nothing runs before (null when not active, or busy). */
  hibernatesAt: z.number().nullable(),
  /** When it is closed, however busy. */
  expiresAt: z.number(),
  closedAt: z.number().nullable(),
  closeReason: z.string().nullable(),
  /** When its variables were last kept (after its last cell), and which. */
  snapshotAt: z.number().nullable(),
  keptVariables: z.array(z.string()),
  /** Variables a hibernation would not keep (not JSON, too large), with their type and why. */
  lostVariables: z.array(lostVariableSchema),
  /** How its kernel last started: woke from hibernation, or restarted, and what came back. */
  notice: sessionNoticeSchema.nullable(),
  /** Its kernel's memory now; null without a kernel. */
  memoryBytes: z.number().nullable(),
  /** Its cells, oldest first (the newest 100 in a list, 500 in `get`). */
  cells: z.array(cellSummarySchema),
});
export type SessionView = z.infer<typeof sessionViewSchema>;

/** One session with its cells in full (code, state, value, output lines). */
export const sessionDetailSchema = sessionViewSchema.extend({ cells: z.array(runViewSchema) });
export type SessionDetail = z.infer<typeof sessionDetailSchema>;

export const variablesViewSchema = z.object({
  /** `kernel`: read from the running kernel; `snapshot`: from the last snapshot (no kernel). */
  source: z.enum(['kernel', 'snapshot']),
  variables: z.array(variableViewSchema),
  /** Variables the last snapshot could not keep. */
  lost: z.array(lostVariableSchema),
});
export type VariablesView = z.infer<typeof variablesViewSchema>;
