import { EXAMPLE_RUN_ID } from './examples.ts';
import { callsProcedure, procedureAnswer } from './operation-kit.ts';
import type { RestOperation } from './rest-operation.ts';

/** Callback deliveries (docs/callbacks.md): a run's, everyone's for the admin, and redelivery. */

export const EXAMPLE_DELIVERY_ID = 'msg_2xK9hQe7LkVb3nRt';

const exampleDelivery = {
  id: EXAMPLE_DELIVERY_ID,
  runId: EXAMPLE_RUN_ID,
  eventType: 'run.completed',
  url: 'https://ci.example.org/runbox-hook',
  state: 'delivered',
  attempts: 1,
  createdAt: 1_767_225_600_061,
  lastAttemptAt: 1_767_225_600_070,
  lastStatus: 200,
  lastError: null,
  nextAttemptAt: null,
  deliveredAt: 1_767_225_600_094,
  attemptLog: [
    {
      n: 1,
      at: 1_767_225_600_070,
      address: '203.0.113.7',
      status: 200,
      outcome: 'delivered',
      error: null,
      durationMs: 24,
    },
  ],
};

export const deliveriesOperations: readonly RestOperation[] = [
  {
    method: 'GET',
    path: '/runs/{id}/deliveries',
    operationId: 'listRunDeliveries',
    tag: 'runs',
    summary: "The run's callback deliveries: each attempt, the last status, the next try",
    description: 'Empty for a run without a callback URL.',
    access: 'owner',
    procedure: 'runs.deliveries',
    inputFrom: 'none',
    responses: [procedureAnswer('runs.deliveries', [exampleDelivery])],
    example: { params: { id: EXAMPLE_RUN_ID } },
    handle: callsProcedure('runs.deliveries'),
  },
  {
    method: 'POST',
    path: '/runs/{id}/deliveries/{deliveryId}/redeliver',
    operationId: 'redeliverRunCallback',
    tag: 'runs',
    summary: "Send one of the run's callbacks again, with the same webhook-id",
    description: 'Send no body. A delivery still pending is left as it is.',
    access: 'owner',
    procedure: 'runs.redeliver',
    inputFrom: 'none',
    responses: [procedureAnswer('runs.redeliver', { ...exampleDelivery, state: 'pending' })],
    example: { params: { id: EXAMPLE_RUN_ID, deliveryId: EXAMPLE_DELIVERY_ID } },
    handle: callsProcedure('runs.redeliver'),
  },
  {
    method: 'GET',
    path: '/admin/deliveries',
    operationId: 'adminDeliveries',
    tag: 'admin',
    summary: 'Callback deliveries of every run, newest first',
    description:
      'Filter by `states` (repeated); page with `limit` and `cursor[createdAt]`, `cursor[id]`.',
    access: 'admin',
    procedure: 'admin.deliveries',
    inputFrom: 'query',
    responses: [
      procedureAnswer('admin.deliveries', { deliveries: [exampleDelivery], nextCursor: null }),
    ],
    example: { query: { limit: '20' } },
    handle: callsProcedure('admin.deliveries'),
  },
  {
    method: 'POST',
    path: '/admin/deliveries/{deliveryId}/redeliver',
    operationId: 'adminRedeliver',
    tag: 'admin',
    summary: "Send anyone's callback again, with the same webhook-id",
    description: 'Send no body.',
    access: 'admin',
    procedure: 'admin.redeliver',
    inputFrom: 'none',
    responses: [procedureAnswer('admin.redeliver', { ...exampleDelivery, state: 'pending' })],
    example: { params: { deliveryId: EXAMPLE_DELIVERY_ID } },
    handle: callsProcedure('admin.redeliver'),
  },
];
