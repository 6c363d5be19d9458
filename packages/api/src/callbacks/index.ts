import type { Registry } from 'prom-client';
import type { Outbox } from '../store/outbox.ts';
import { createAddressPolicy, type AddressPolicy } from './address-policy.ts';
import type { CallbackConfig } from './callback-config.ts';
import { registerCallbackMetrics } from './callback-metrics.ts';
import { createDeliverer, type Deliverer, type DelivererLog } from './deliverer.ts';
import { createHeartbeat, type HeartbeatStatus } from './heartbeat.ts';

/** Signed callbacks at the end of runs (docs/callbacks.md): the address rule and the deliverer. */
export interface Callbacks extends Deliverer {
  /** Which addresses a callback may reach (RUNBOX_CALLBACK_ALLOW_NETWORKS on top of public). */
  readonly policy: AddressPolicy;
}

export function createCallbacks(options: {
  config: CallbackConfig;
  outbox: Outbox;
  log: DelivererLog;
  /** The server's metrics registry: the callbacks' series go there. */
  registry: Registry;
  /** What the heartbeat (RUNBOX_HEARTBEAT_URL) reports; read at each beat. */
  status: HeartbeatStatus;
}): Callbacks {
  const policy = createAddressPolicy(options.config.allowNetworks);
  const deliverer = createDeliverer({
    outbox: options.outbox,
    config: options.config,
    policy,
    log: options.log,
    metrics: registerCallbackMetrics(options.registry, () => options.outbox.counts()),
  });
  const { heartbeat: beat, serverSecret } = options.config;
  const heartbeat =
    beat && serverSecret !== null
      ? createHeartbeat({
          ...beat,
          secret: serverSecret,
          policy,
          timeoutMs: options.config.timeoutMs,
          status: options.status,
          log: options.log,
        })
      : null;
  return {
    policy,
    poke: () => deliverer.poke(),
    start() {
      deliverer.start();
      heartbeat?.start();
    },
    async stop() {
      await Promise.all([deliverer.stop(), heartbeat?.stop()]);
    },
  };
}

export { callbackForNewRun } from './run-callback.ts';
export { CallbackRefusedError } from './callback-errors.ts';
export type { CallbackConfig } from './callback-config.ts';
