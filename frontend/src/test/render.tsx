import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router";
import type { Role } from "../api/contract";
import { makeSession, SessionContext } from "../auth/session";
import { vi } from "vitest";

/** Renders `element` at `path` with a fresh query cache and a session of the given role. */
interface Options {
  path?: string;
  role?: Role;
  routes?: { path: string; element: ReactNode }[];
}

export function renderPage(element: ReactNode, { path = "/", role = "owner", routes = [] }: Options = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const session = makeSession(
    { mode: "multi_tenant", provider: "dev", authority: null, client_id: null, scopes: [], dev_issuer_url: null },
    {
      user: { id: "u1", display_name: "Ada", email: "ada@example.com" },
      organisations: [{ id: "o1", slug: "acme", name: "Acme", role }],
    },
    "o1",
    () => undefined,
    null,
  );
  const router = createMemoryRouter([{ path: path.split("?")[0] ?? "/", element }, ...routes], { initialEntries: [path] });
  return render(
    <QueryClientProvider client={client}>
      <SessionContext.Provider value={session}>
        <RouterProvider router={router} />
      </SessionContext.Provider>
    </QueryClientProvider>,
  );
}

type Handler = (url: URL, request: Request) => Response | Promise<Response>;

/** Answers the SPA's API calls in a component test (the API is the outside system here). */
export function stubApi(handler: Handler) {
  const calls: URL[] = [];
  vi.stubGlobal("fetch", async (request: Request) => {
    const url = new URL(request.url);
    calls.push(url);
    return handler(url, request);
  });
  return calls;
}

export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" } });
