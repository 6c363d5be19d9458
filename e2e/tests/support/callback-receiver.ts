import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_SECRET } from '../../playwright.config';

/** One POST the receiver got, as it came, and what it answered. */
export interface ReceivedCallback {
  webhookId: string;
  /** Whether webhook-signature signs `<id>.<timestamp>.<body>` with the suite's secret. */
  signed: boolean;
  body: { type: string; data: { id: string; state: string } };
  answered: number;
}

/** The Standard Webhooks check, done by hand: the receiver must not trust the sender's code. */
function signatureHolds(headers: IncomingHttpHeaders, body: Buffer): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
    return false;
  const key = Buffer.from(CALLBACK_SECRET.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]))
    .digest();
  return signatures.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * A real HTTP receiver on 127.0.0.1 (the e2e server allows that network): it answers each POST
 * with the next status of `answers` (the last one from then on) and keeps what it got.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private readonly server: Server;
  /** Where runs are told to report: this receiver's address on 127.0.0.1. */
  readonly url: string;
  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(answers: readonly number[]): Promise<CallbackReceiver> {
    let receiver: CallbackReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const got = receiver?.received ?? [];
        const answered = answers[Math.min(got.length, answers.length - 1)] ?? 200;
        got.push({
          webhookId: String(req.headers['webhook-id']),
          signed: signatureHolds(req.headers, body),
          body: JSON.parse(body.toString('utf8')) as ReceivedCallback['body'],
          answered,
        });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    receiver = new CallbackReceiver(server, `http://127.0.0.1:${port}/runbox-hook`);
    return receiver;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
