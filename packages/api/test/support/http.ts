/** TEST SCAFFOLDING: raw HTTP calls, for what a typed client would never send. */

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
}

async function answer(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** POST /api/trpc/<procedure> with this body and headers (JSON content type unless told). */
export async function rawPost(
  url: string,
  procedure: string,
  body: string | FormData,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const contentType = typeof body === 'string' ? { 'content-type': 'application/json' } : {};
  return answer(
    await fetch(`${url}/api/trpc/${procedure}`, {
      method: 'POST',
      body,
      headers: { ...contentType, ...headers },
    }),
  );
}

/** GET /api/trpc/<procedure>?input=<json>. */
export async function rawQuery(
  url: string,
  procedure: string,
  input: string | null,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const query = input === null ? '' : `?input=${encodeURIComponent(input)}`;
  return answer(await fetch(`${url}/api/trpc/${procedure}${query}`, { headers }));
}

/** The tRPC error of a raw answer: `{ error: { message, data: { code, runbox } } }`. */
export function trpcErrorOf(body: unknown): {
  message: string;
  code: string;
  runbox: Record<string, string | number> | null;
} {
  const error = (body as { error?: { message?: string; data?: Record<string, unknown> } } | null)
    ?.error;
  return {
    message: String(error?.message ?? ''),
    code: String(error?.data?.code ?? ''),
    runbox: (error?.data?.runbox as Record<string, string | number> | null | undefined) ?? null,
  };
}
