import { z } from 'zod';

/**
 * What a session kernel answers (runtime/session_python.py, runtime/session-node.mjs), checked
 * before the host believes it: the kernel runs the session's code, which can write on its reply
 * channel too.
 */

export const lostVariableSchema = z.object({
  name: z.string().max(256),
  type: z.string().max(256),
  reason: z.string().max(256),
});
/** A variable a snapshot could not keep: its name, its type and why (`not JSON`, `too large`). */
export type LostVariable = z.infer<typeof lostVariableSchema>;

export const kernelSnapshotSchema = z.object({
  /** Variables whose values come back exactly from JSON, within the snapshot's byte budget. */
  values: z.record(z.string(), z.unknown()),
  /** Python modules bound to names (`import numpy as np`): imported again on restore. */
  modules: z.record(z.string(), z.string()),
  lost: z.array(lostVariableSchema),
});
export type KernelSnapshot = z.infer<typeof kernelSnapshotSchema>;

export const cellReplySchema = z.object({
  op: z.literal('cell'),
  id: z.string(),
  status: z.enum(['ok', 'error', 'exit', 'interrupted']),
  exitCode: z.number().int(),
  fenced: z.array(z.boolean()).length(2),
  snapshot: kernelSnapshotSchema,
});
export type CellReply = z.infer<typeof cellReplySchema>;

export const variableViewSchema = z.object({
  name: z.string(),
  /** The value's type as its language names it (`int`, `pandas.DataFrame`, `Map`). */
  type: z.string(),
  /** A short representation made by the kernel from the value's data, never by its own code. */
  repr: z.string(),
});
export type VariableView = z.infer<typeof variableViewSchema>;

export const variablesReplySchema = z.object({
  op: z.literal('variables'),
  id: z.string(),
  variables: z.array(variableViewSchema),
});

export const setReplySchema = z.object({
  op: z.literal('set'),
  id: z.string(),
  ok: z.boolean().optional(),
  error: z.string().optional(),
});

export const restoreReplySchema = z.object({
  op: z.literal('restore'),
  id: z.string(),
  restored: z.array(z.string()),
  failed: z.array(lostVariableSchema),
});
export type RestoreReply = z.infer<typeof restoreReplySchema>;
