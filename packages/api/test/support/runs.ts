import { readdirSync, readFileSync } from 'node:fs';
import { isEndState, type RunEvent } from '@runbox/executor';
import type { RunView } from '../../src/schemas/run-views.ts';
import type { Client } from './clients.ts';

/** TEST SCAFFOLDING: runs, their stored state, and the host processes they leave. */

/**
 * runs.get until the stored row shows an end state. The `end` event reaches subscribers before
 * the store writes it (events are batched), so a test that wants the stored result waits here.
 */
export async function storedEnd(
  client: Client,
  runId: string,
  timeoutMs = 10_000,
): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await client.runs.get.query({ id: runId });
    if (isEndState(run.state)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is still ${run.state} in the store`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `check` until it returns a value other than undefined (for states that come later). */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Seqs must run 1, 2, 3, ... with no gap and no repeat. */
export function seqsOf(events: readonly RunEvent[]): number[] {
  return events.map((event) => event.seq);
}

export function oneToN(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Host pids whose real uid is `uid` (the sandbox uid of a server). */
/** Live (not zombie) host processes whose real uid is `uid`. */
export function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const lines = status.split('\n');
      const uidLine = lines.find((line) => line.startsWith('Uid:'));
      // A zombie is dead: after a SIGKILLed server its processes are orphans of the host's
      // init, which reaps them in its own time (this machine's init does so lazily).
      const zombie = lines.some((line) => /^State:\s+Z/.test(line));
      if (uidLine?.split(/\s+/)[1] === String(uid) && !zombie) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** The result in a run's last event, which must be its end. */
export function endOf(events: readonly RunEvent[]): Extract<RunEvent, { type: 'end' }>['result'] {
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`the last event is ${last?.type}, not end`);
  return last.result;
}
