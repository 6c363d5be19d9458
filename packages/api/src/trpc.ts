import { initTRPC } from '@trpc/server';
import { errorDetails, toTRPCError } from './errors/to-trpc-error.ts';
import { AdminRequiredError, OwnerRequiredError } from './errors/api-errors.ts';
import { ApiKeyRequiredError } from './errors/api-key-required-error.ts';
import type { Identity } from './identity.ts';
import type { Services } from './services.ts';

export interface SocketState {
  subscriptions: number;
  /** Bytes queued on the socket and not yet sent: a slow client's backlog. */
  bufferedAmount(): number;
}

/** One context for HTTP and WebSocket calls. */
export interface Context {
  services: Services;
  identity: Identity;
  /** Per WebSocket connection: how many subscriptions it holds, and what it has not sent yet. Null over HTTP. */
  socket: SocketState | null;
  /**
   * What was wrong with the credentials sent (an unknown API key, a wrong admin token): every
   * procedure answers UNAUTHORIZED with it, public ones too (credentials.ts). Null when none.
   */
  credentialProblem: Error | null;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Never the stack of an internal error on the wire; the log has it.
    const { stack: _stack, ...data } = shape.data;
    return { ...shape, data: { ...data, runbox: errorDetails(error.cause) } };
  },
});

/**
 * Errors a procedure throws that are not TRPCErrors reach here as INTERNAL_SERVER_ERROR with the
 * original as cause; the one mapping function decides what they really are.
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR' && result.error.cause) {
    throw toTRPCError(result.error.cause);
  }
  return result;
});

/** Credentials that were sent and are not this server's are refused whatever the procedure. */
const refuseBadCredentials = t.middleware(({ ctx, next }) => {
  if (ctx.credentialProblem) throw toTRPCError(ctx.credentialProblem);
  return next();
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapErrors).use(refuseBadCredentials);

export const ownerProcedure = publicProcedure.use(({ ctx, next }) => {
  const { identity, services } = ctx;
  const owner = identity.owner;
  if (owner === null) {
    throw toTRPCError(
      services.config.anonymous ? new OwnerRequiredError() : new ApiKeyRequiredError(),
    );
  }
  // An anonymous owner is as cheap to make as a cookie: what it creates counts against its
  // client's address too. The limiter it meets is bound to that address here, for every path
  // that creates on its behalf.
  const bound = identity.anonymous
    ? { ...services, rateLimiter: services.rateLimiter.forAddress(identity.address) }
    : services;
  return next({ ctx: { ...ctx, owner, services: bound } });
});

export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.identity.isAdmin) throw toTRPCError(new AdminRequiredError());
  return next({ ctx: { ...ctx, owner: ctx.identity.owner ?? 'admin' } });
});
