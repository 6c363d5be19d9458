import { describeRefusal, type RefusedClass } from './address-policy.ts';

/** Why a callback URL was refused at create. */
export type CallbackRefusalRule = 'no-secret' | 'forbidden-address';

/**
 * A run's callback URL that this server will not call: no secret to sign with is configured for
 * the caller, or the URL names an address the SSRF rule forbids (docs/callbacks.md).
 */
export class CallbackRefusedError extends Error {
  readonly code = 'CALLBACK_REFUSED';
  readonly field = 'callbackUrl';
  readonly rule: CallbackRefusalRule;
  constructor(
    options: { rule: 'no-secret' } | { rule: 'forbidden-address'; address: RefusedClass },
  ) {
    super(
      options.rule === 'no-secret'
        ? 'callbackUrl: this server has no callback secret for you to sign with ' +
            '(the operator sets RUNBOX_CALLBACK_SECRET or RUNBOX_CALLBACK_KEY_SECRETS)'
        : `callbackUrl: its host is ${describeRefusal(options.address)}, which runbox does not ` +
            'call unless the operator allows it (RUNBOX_CALLBACK_ALLOW_NETWORKS)',
    );
    this.name = 'CallbackRefusedError';
    this.rule = options.rule;
  }
}
