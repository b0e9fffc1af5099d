import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, renderPage, stubApi } from "../../test/render";
import { GitHubInstalledPage } from "./GitHubInstalledPage";
import { RepositoriesPage } from "./RepositoriesPage";

const NOW = new Date().toISOString();
const base = {
  project: null,
  default_branch: "main",
  base_url: null,
  has_credential: false,
  created_at: NOW,
  unreachable_reason: null,
  unreachable_at: null,
};
const REPOS = [
  { ...base, id: "r1", provider: "github", owner: "acme", name: "pat", has_credential: true, auth_kind: "token" },
  {
    ...base,
    id: "r2",
    provider: "github",
    owner: "acme",
    name: "shop",
    auth_kind: "github_app",
    unreachable_reason: "the GitHub App was uninstalled from acme: install it again",
    unreachable_at: NOW,
  },
  { ...base, id: "r3", provider: "azure_devops", owner: "contoso", project: "Shop", name: "ident", auth_kind: "azure_identity" },
  { ...base, id: "r4", provider: "azure_devops", owner: "contoso", project: "Shop", name: "sp", has_credential: true, auth_kind: "azure_service_principal" },
];
const INSTALLATION = {
  id: "11111111-1111-4111-8111-111111111111",
  installation_id: 42,
  account_login: "acme",
  account_type: "Organization",
  uninstalled: false,
  repositories: ["acme/shop", "acme/billing"],
  created_at: NOW,
};
const GRANTED = [
  { full_name: "acme/shop", default_branch: "main", private: true, registered: false },
  { full_name: "acme/billing", default_branch: "trunk", private: true, registered: true },
];

interface Seen {
  method: string;
  path: string;
  body: unknown;
}

function api(overrides: Record<string, unknown> = {}) {
  const seen: Seen[] = [];
  stubApi(async (url, request) => {
    const body: unknown = request.method === "GET" ? null : await request.clone().json().catch(() => null);
    seen.push({ method: request.method, path: url.pathname, body });
    const key = `${request.method} ${url.pathname}`;
    if (key in overrides) return json(overrides[key], key.startsWith("POST") ? 201 : 200);
    switch (key) {
      case "GET /api/v1/repositories":
        return json(REPOS);
      case "GET /api/v1/github-app":
        return json({ configured: true, slug: "log-dawg", web_url: "https://github.com" });
      case "GET /api/v1/github-app/installations":
        return json([INSTALLATION]);
      case "GET /api/v1/github-app/requests":
        return json([]);
      case `GET /api/v1/github-app/installations/${INSTALLATION.id}/repositories`:
        return json(GRANTED);
      case `POST /api/v1/github-app/installations/${INSTALLATION.id}/repositories`:
        return json([{ ...REPOS[1], unreachable_reason: null }], 201);
      case "POST /api/v1/github-app/callback":
        return json({ ...INSTALLATION, granted: GRANTED }, 201);
      case "POST /api/v1/repositories":
        return json({ ...REPOS[3], id: "r5" }, 201);
      default:
        return json({ detail: `not here: ${key}` }, 404);
    }
  });
  return seen;
}

afterEach(() => vi.unstubAllGlobals());

describe("RepositoriesPage", () => {
  it("shows how each repository is read, and what to do about one that is unreachable", async () => {
    api();
    renderPage(<RepositoriesPage />, { path: "/repositories" });
    const rows = await screen.findAllByRole("row");
    const row = (name: string): HTMLElement => {
      const found = rows.find((r) => r.textContent.includes(name));
      if (!found) throw new Error(`no row for ${name}`);
      return found;
    };
    expect(within(row("acme/pat")).getByText("Personal token")).toBeInTheDocument();
    expect(within(row("acme/shop")).getByText("GitHub App installation")).toBeInTheDocument();
    expect(within(row("contoso/Shop/ident")).getByText("Platform identity")).toBeInTheDocument();
    expect(within(row("contoso/Shop/sp")).getByText("Your service principal")).toBeInTheDocument();
    const banner = within(row("acme/shop")).getByRole("alert");
    expect(banner).toHaveTextContent("uninstalled from acme");
    expect(banner).toHaveTextContent("Install the GitHub App again");
    expect(screen.getAllByRole("alert")[0]).toHaveTextContent("1 repository can no longer be read: acme/shop");
    // Only a pasted token can be replaced.
    expect(within(row("acme/pat")).getByRole("button", { name: "Replace token" })).toBeInTheDocument();
    expect(within(row("acme/shop")).queryByRole("button", { name: "Replace token" })).not.toBeInTheDocument();
  });

  it("completes GitHub's redirect once and registers the chosen repositories in one step", async () => {
    const seen = api();
    const state = "s".repeat(43);
    renderPage(<GitHubInstalledPage />, {
      path: `/github/installed?installation_id=42&setup_action=install&state=${state}&code=abc`,
      routes: [{ path: "/repositories", element: <RepositoriesPage /> }],
    });
    const picker = await screen.findByRole("group", { name: "Repositories acme grants" });
    const callbacks = seen.filter((s) => s.path === "/api/v1/github-app/callback");
    expect(callbacks.map((c) => c.body)).toEqual([{ installation_id: 42, state, code: "abc", setup_action: "install" }]);
    const billing = within(picker).getByRole("checkbox", { name: /acme\/billing/ });
    expect(billing).toBeChecked();
    expect(billing).toBeDisabled();
    await userEvent.click(within(picker).getByRole("checkbox", { name: /acme\/shop/ }));
    await userEvent.click(screen.getByRole("button", { name: "Register 1 selected" }));
    expect(await screen.findByText(/Registered acme\/shop: read through the GitHub App/)).toBeInTheDocument();
    const registered = seen.find((s) => s.method === "POST" && s.path.endsWith(`${INSTALLATION.id}/repositories`));
    expect(registered?.body).toEqual({ repositories: [{ full_name: "acme/shop", default_branch: "main" }] });
  });

  it("says an install GitHub only requested is waiting for an organisation owner", async () => {
    const waiting = {
      id: "22222222-2222-4222-8222-222222222222",
      account: "acme",
      requester_login: "mona",
      requested_at: NOW,
      waiting: true,
      completed_at: null,
      installation: null,
      detail: "Requested — waiting for a GitHub organisation owner of acme to approve. It completes by itself.",
    };
    const seen = api({ "POST /api/v1/github-app/requests": waiting, "GET /api/v1/github-app/requests": [waiting] });
    renderPage(<GitHubInstalledPage />, {
      path: `/github/installed?setup_action=request&state=${"t".repeat(43)}&code=xyz`,
      routes: [{ path: "/repositories", element: <RepositoriesPage /> }],
    });
    const status = await screen.findByText(/Requested — waiting for a GitHub organisation owner of acme to approve/);
    expect(status.closest("[role=status]")).toHaveTextContent("by mona on GitHub");
    expect(seen.filter((s) => s.path === "/api/v1/github-app/requests" && s.method === "POST")).toHaveLength(1);
    expect(screen.getByRole("button", { name: "Connect GitHub again" })).toBeInTheDocument();
  });

  it("says plainly when GitHub's redirect is refused", async () => {
    api({});
    stubApi((url) =>
      url.pathname === "/api/v1/github-app/callback"
        ? json({ detail: "this install link is unknown or was already used: start the install again" }, 422)
        : json([]),
    );
    renderPage(<GitHubInstalledPage />, { path: `/github/installed?installation_id=42&state=${"u".repeat(43)}` });
    expect(await screen.findByRole("alert")).toHaveTextContent("already used");
    expect(screen.getByRole("link", { name: "Back to Repositories" })).toBeInTheDocument();
  });

  it("registers Azure DevOps with a service principal's certificate, never a secret beside it", async () => {
    const seen = api();
    renderPage(<RepositoriesPage />, { path: "/repositories" });
    const form = (await screen.findByRole("heading", { name: "Connect Azure DevOps without a PAT" })).closest("section");
    if (!form) throw new Error("no section");
    const inside = within(form);
    await userEvent.type(inside.getByLabelText("Azure DevOps organisation"), "contoso");
    await userEvent.type(inside.getByLabelText("Azure DevOps project"), "Shop");
    await userEvent.type(inside.getByLabelText("Azure DevOps repository"), "shop");
    await userEvent.click(inside.getByLabelText("Your own service principal"));
    await userEvent.type(inside.getByLabelText("Directory (tenant) ID"), "8b1f6a52-4e1c-4d2a-9c3e-1f0a2b3c4d5e");
    await userEvent.type(inside.getByLabelText("Application (client) ID"), "6e2c5a11-9b7d-4f3e-8a21-7c6b5d4e3f20");
    await userEvent.click(inside.getByLabelText("A certificate"));
    const pem = "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n";
    const file = new File([pem], "reader.pem", { type: "application/x-pem-file" });
    await userEvent.upload(inside.getByLabelText("…or load it from a .pem file"), file);
    await waitFor(() => expect(inside.getByLabelText(/Certificate: one PEM/)).toHaveValue(pem));
    await userEvent.click(inside.getByRole("button", { name: "Connect Azure DevOps repository" }));
    expect(await inside.findByText("Registered contoso/Shop/sp.")).toBeInTheDocument();
    const sent = seen.find((s) => s.method === "POST" && s.path === "/api/v1/repositories");
    expect(sent?.body).toEqual({
      provider: "azure_devops",
      owner: "contoso",
      project: "Shop",
      name: "shop",
      default_branch: "main",
      auth: "azure_service_principal",
      service_principal: {
        tenant_id: "8b1f6a52-4e1c-4d2a-9c3e-1f0a2b3c4d5e",
        client_id: "6e2c5a11-9b7d-4f3e-8a21-7c6b5d4e3f20",
        certificate: pem,
      },
    });
  });
});
