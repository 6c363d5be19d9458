import { randomUUID } from 'node:crypto';
import {
  SessionBusyError,
  SessionKernelEndedError,
  SessionsUnavailableError,
} from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from './run-messages.ts';
import { errorFromReply, replyError, sessionCommandSchema } from './session-commands.ts';

const spec = {
  id: randomUUID(),
  language: 'python',
  limits: { wallTimeMs: 3_600_000, memoryBytes: 256 * 1024 * 1024 },
  environment: null,
  interruptGraceMs: 2_000,
  snapshotMaxBytes: 1024,
};

function job(sessionId: string) {
  return {
    runId: randomUUID(),
    request: { kind: 'cell', sessionId, language: 'python', code: 'x = 1' },
    projectDigest: null,
    limits: {},
    output: { maxLines: 100, pii: false },
    priority: 0,
    queuedAt: 1,
    warnings: [],
  };
}

describe('the session commands a worker obeys', () => {
  const start = {
    op: 'start',
    requestId: randomUUID(),
    sessionId: spec.id,
    restore: true,
    spec,
    snapshot: { values: { x: 1 }, modules: {}, lost: [] },
    endedElsewhere: null,
  };

  it('takes the ones the API writes', () => {
    expect(sessionCommandSchema.safeParse(start).success).toBe(true);
    const cell = { op: 'cell', sessionId: spec.id, spec, snapshot: null, endedElsewhere: null };
    expect(sessionCommandSchema.safeParse({ ...cell, job: job(spec.id) }).success).toBe(true);
  });

  it('refuses an unknown op, an extra field, a bad job, and a lifetime past a year', () => {
    const refused = [
      { ...start, op: 'exec' },
      { ...start, argv: ['sh'] },
      { ...start, sessionId: '../x' },
      { ...start, spec: { ...spec, limits: { ...spec.limits, wallTimeMs: 400 * 86_400_000 } } },
      { ...start, spec: { ...spec, language: 'bash' } },
      { ...start, snapshot: { values: {}, modules: { np: 1 }, lost: [] } },
      {
        op: 'cell',
        sessionId: spec.id,
        spec,
        snapshot: null,
        endedElsewhere: null,
        job: { ...job(spec.id), request: { kind: 'cell', sessionId: spec.id, language: 'python' } },
      },
    ];
    for (const command of refused)
      expect(sessionCommandSchema.safeParse(command).success).toBe(false);
  });
});

describe('errors across the worker boundary', () => {
  it("come back as the engine's class, with the worker's words", () => {
    const busy = errorFromReply({ code: 'SESSION_BUSY', message: 'the session is running a cell' });
    expect(busy).toBeInstanceOf(SessionBusyError);
    expect(busy.message).toBe('the session is running a cell');
    expect(errorFromReply({ code: 'SESSIONS_UNAVAILABLE', message: 'm' })).toBeInstanceOf(
      SessionsUnavailableError,
    );
    expect(errorFromReply({ code: 'NO_SUCH_CODE', message: 'm' })).toBeInstanceOf(
      SessionKernelEndedError,
    );
  });

  it("keep a user's error and hide runbox's own (its message may name the worker's paths)", () => {
    expect(replyError(new SessionBusyError('reading its variables'))).toMatchObject({
      code: 'SESSION_BUSY',
    });
    const internal = replyError(new Error("EACCES: open '/var/lib/runbox/worker/x'"));
    expect(internal.code).toBe('SESSION_KERNEL_ENDED');
    expect(internal.message).not.toContain('/var/lib');
  });
});

describe('what a worker tells of its sessions', () => {
  const envelope = { kind: 'session', worker: 'w1', sessionId: spec.id };

  it('is read back: snapshots, notices, ends and replies', () => {
    const messages = [
      { ...envelope, event: 'snapshot', snapshot: { values: { x: 1 }, modules: {}, lost: [] } },
      {
        ...envelope,
        event: 'notice',
        notice: { kind: 'woke', at: 1, reason: null, restored: ['x'], lost: [] },
      },
      { ...envelope, event: 'exit', why: 'killed' },
      { kind: 'reply', worker: 'w1', requestId: randomUUID(), ok: true, value: null },
      {
        kind: 'reply',
        worker: 'w1',
        requestId: randomUUID(),
        ok: false,
        error: { code: 'SESSION_BUSY', message: 'busy' },
      },
    ];
    for (const message of messages) expect(decodeMessage(JSON.stringify(message))).toEqual(message);
  });

  it('is skipped when it is not what it says', () => {
    const wrong = [
      { ...envelope, event: 'snapshot', snapshot: { values: 1 } },
      { ...envelope, event: 'notice', notice: { kind: 'hacked' } },
      { ...envelope, event: 'reboot' },
      { kind: 'reply', worker: 'w1', requestId: 'r', ok: false, error: 'no' },
    ];
    for (const message of wrong) expect(decodeMessage(JSON.stringify(message))).toBeNull();
  });
});
