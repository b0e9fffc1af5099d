import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, stubApi } from "../test/render";
import { SignIn } from "./SignIn";
import { useSession } from "./session";

const DEV = { mode: "multi_tenant", provider: "dev", authority: null, client_id: null, scopes: [], dev_issuer_url: "x" };

function Who() {
  const session = useSession();
  return <p>signed in as {session.me.user?.display_name} in {session.org?.name}</p>;
}

function renderSignIn() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <SignIn>
        <Who />
      </SignIn>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
  localStorage.clear();
});

describe("SignIn", () => {
  it("signs in with the development issuer and sends its token with the organisation", async () => {
    const seen: { auth: string | null; org: string | null }[] = [];
    stubApi((url, request) => {
      if (url.pathname === "/api/v1/auth/config") return json(DEV);
      if (url.pathname === "/dev-issuer/token") return json({ access_token: "tok-1", token_type: "Bearer", expires_in: 3600 });
      seen.push({ auth: request.headers.get("Authorization"), org: request.headers.get("X-Logdawg-Org") });
      return json({
        user: { id: "u", display_name: "Ada", email: "ada@example.com" },
        organisations: [{ id: "o1", slug: "ae", name: "Analytical Engines", role: "owner" }],
      });
    });
    renderSignIn();
    await userEvent.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Name"), "Ada");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("signed in as Ada in Analytical Engines")).toBeInTheDocument();
    expect(seen[0]?.auth).toBe("Bearer tok-1");
  });

  it("offers a fresh sign-in when the token is refused", async () => {
    sessionStorage.setItem("logdawg.devToken", "expired");
    stubApi((url) =>
      url.pathname === "/api/v1/auth/config" ? json(DEV) : json({ detail: "The access token has expired." }, 401),
    );
    renderSignIn();
    expect(await screen.findByRole("alert")).toHaveTextContent("The access token has expired.");
    await userEvent.click(screen.getByRole("button", { name: "Sign in again" }));
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(sessionStorage.getItem("logdawg.devToken")).toBeNull();
  });

  it("needs no sign-in on a single-tenant platform", async () => {
    stubApi((url) =>
      url.pathname === "/api/v1/auth/config"
        ? json({ ...DEV, mode: "single_tenant", provider: "none" })
        : json({ user: null, organisations: [{ id: "l", slug: "local", name: "Local organisation", role: "owner" }] }),
    );
    renderSignIn();
    expect(await screen.findByText(/signed in as\s+in Local organisation/)).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Sign in" })).not.toBeInTheDocument();
  });
});
