import createClient, { type Middleware } from "openapi-fetch";
import type { paths, components } from "./schema";
import type { DevIssuerPaths } from "./contract";
import { toApi } from "./runtimeConfig";

export type Schemas = components["schemas"];

/** A failed call, carrying the problem+json `detail` a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

interface Session {
  /** A bearer token for the API, or null where none is needed (single-tenant). */
  token: () => Promise<string | null>;
  /** The organisation the user acts in. */
  org: () => string | null;
}

let session: Session = { token: () => Promise.resolve(null), org: () => null };

/** Called by the sign-in layer once it knows how requests are authenticated. */
export function setSession(next: Session): void {
  session = next;
}

const authenticate: Middleware = {
  async onRequest({ request }) {
    const token = await session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    const org = session.org();
    if (org) request.headers.set("X-Logdawg-Org", org);
    return request;
  },
};

// Built against the page's origin; a deployment that puts the API elsewhere says so in its
// /config.json, read at start-up (runtimeConfig.ts), and each request is aimed there.
export const api = createClient<paths & DevIssuerPaths>({
  baseUrl: window.location.origin,
  // Looked up per call, so the page's (or a test's) fetch is the one used.
  fetch: async (request) => globalThis.fetch(await toApi(request)),
});
api.use(authenticate);

function describe(error: unknown, status: number): string {
  if (error && typeof error === "object" && "detail" in error) {
    const detail = error.detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail)) return JSON.stringify(detail);
  }
  if (status === 0) return "The API could not be reached.";
  return `The API answered ${status}.`;
}

/** The data of an openapi-fetch result, or an ApiError with the problem's detail. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, describe(result.error, result.response.status));
  }
  return result.data as T;
}

export function problemText(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}
