/**
 * Where the API is, decided when the app is deployed rather than when it is built, so one
 * build serves every environment. A Static Web Apps deployment writes `/config.json` beside
 * the bundle: `{"apiBaseUrl": "https://<the stack's API>"}`. Without one (the API serving the
 * app itself, or `npm run dev` proxying it) the API is on the page's own origin.
 */

let apiOrigin: string | null = null;

/** The deployment's `/config.json` is not one this app can use. */
export class RuntimeConfigError extends Error {
  constructor(detail: string) {
    super(`This deployment's /config.json is not valid: ${detail}`);
    this.name = "RuntimeConfigError";
  }
}

/** Reads `/config.json` once, before the app's first API call (main.tsx awaits it). */
export async function loadRuntimeConfig(
  fetcher: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request),
): Promise<void> {
  const own = window.location.origin;
  const response = await fetcher(new Request(new URL("/config.json", own), { cache: "no-cache" }));
  if (response.status === 404) {
    apiOrigin = null;
    return;
  }
  if (!response.ok) throw new RuntimeConfigError(`it answered ${response.status}`);
  let config: unknown;
  try {
    config = await response.json();
  } catch {
    throw new RuntimeConfigError("it is not JSON");
  }
  const base = config && typeof config === "object" && "apiBaseUrl" in config ? config.apiBaseUrl : undefined;
  if (base === "" || base === undefined) {
    apiOrigin = null;
    return;
  }
  if (typeof base !== "string" || !/^https?:\/\//.test(base)) {
    throw new RuntimeConfigError(`apiBaseUrl ${JSON.stringify(base)} is not an http(s) URL`);
  }
  const origin = new URL(base).origin;
  apiOrigin = origin === own ? null : origin;
}

/** `request` (built by the API client against the page's origin), aimed at the API's origin
 * when the deployment put the API elsewhere; unchanged otherwise. */
export async function toApi(request: Request): Promise<Request> {
  const own = window.location.origin;
  if (apiOrigin === null || !request.url.startsWith(`${own}/`)) return request;
  // A body is buffered, not streamed: streaming request bodies are not portable across browsers.
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return new Request(apiOrigin + request.url.slice(own.length), {
    method: request.method,
    headers: request.headers,
    body,
    signal: request.signal,
    credentials: request.credentials,
    redirect: request.redirect,
    referrerPolicy: request.referrerPolicy,
  });
}

/** For tests: forget a loaded configuration. */
export function resetRuntimeConfig(): void {
  apiOrigin = null;
}
