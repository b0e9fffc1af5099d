/**
 * Connecting GitHub through the platform's GitHub App, in a real browser against the real
 * platform (`logdawg up`) and a fake GitHub on 127.0.0.1 that plays GitHub's install page and
 * redirect, the app's endpoints (JWT-verified) and its signed webhooks:
 *
 * - an owner installs: Connect GitHub → GitHub's install page → back on /github/installed →
 *   the installation's repositories with checkboxes → one registered → read through the app;
 * - a member can only request: the page says it waits for an organisation owner, and the
 *   owner's approval (the `installation` `created` webhook) completes it without a reload;
 * - the app is uninstalled: the repository shows the unreachable banner with what to do.
 *
 * LOGDAWG_E2E_SCREENSHOTS=1 keeps a screenshot of each step in frontend/e2e-artifacts/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { axeProblems, launch, screenshot } from "./browser";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";
import { startPlatform, type Platform } from "./platform";

const KEEP_ALL = process.env.LOGDAWG_E2E_SCREENSHOTS === "1";

let github: FakeGitHub | undefined;
let platform: Platform | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page!: Page;

const running = () => {
  if (!platform || !github) throw new Error("the platform or the fake GitHub did not start");
  return { platform, github };
};

async function visit(name: string, check: () => Promise<void>, axe = true) {
  onTestFailed(async () => {
    const file = await screenshot(page, `failed-${name}`);
    console.error(`screenshot of the failing page: ${file}\n${platform?.output.join("").slice(-3000) ?? ""}`);
  });
  await check();
  if (axe) expect(await axeProblems(page), `accessibility of ${name}`).toEqual([]);
  if (KEEP_ALL) await screenshot(page, name);
}

beforeAll(async () => {
  github = await startFakeGitHub();
  platform = await startPlatform(github.settings);
  await github.command({
    set: {
      callback_url: `${platform.url}/github/installed`,
      webhook_url: `${platform.url}/api/v1/webhooks/github`,
    },
  });
  browser = await launch();
  context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
  github?.stop();
}, 60_000);

describe("connecting GitHub with the app", () => {
  it("installs the app on GitHub and comes back to the repositories it grants", async () => {
    const { platform, github } = running();
    await page.goto(`${platform.url}/repositories`);
    await visit("github-connect", async () => {
      await page.getByRole("heading", { name: "Connect GitHub" }).waitFor();
      await page.getByLabel("GitHub organisation or user to install on").fill("acme");
    });
    await page.getByRole("button", { name: "Connect GitHub" }).click();
    // GitHub's install page (the fake's), reached through the API's one-time state.
    await page.getByRole("heading", { name: "Install log-dawg-e2e" }).waitFor();
    expect(page.url()).toMatch(new RegExp(`^${github.url}/apps/log-dawg-e2e/installations/new\\?state=`));
    await visit("github-install-page", () => Promise.resolve(), false);
    await page.getByRole("button", { name: "Install" }).click();
    // Back in the SPA: the landing completes the install once and opens the picker.
    await page.waitForURL(/\/repositories\?connected=/);
    await visit("github-installed-choose-repositories", async () => {
      const picker = page.getByRole("group", { name: "Repositories acme grants" });
      await picker.getByRole("checkbox", { name: /acme\/shop/ }).waitFor();
      expect(await picker.getByRole("checkbox").count()).toBe(2);
      await picker.getByRole("checkbox", { name: /acme\/shop/ }).check();
    });
    await page.getByRole("button", { name: "Register 1 selected" }).click();
    await page.getByText("Registered acme/shop: read through the GitHub App.").waitFor();
    const row = page.getByRole("row").filter({ hasText: "acme/shop" });
    await row.getByText("GitHub App installation").waitFor();
    await row.getByRole("button", { name: "Test connection" }).click();
    await visit("github-registered", async () => {
      await row.getByText(/^✓/).waitFor();
      expect(await row.getByRole("button", { name: "Replace token" }).count()).toBe(0);
    });
    const seen = await github.command({ state: true });
    expect(seen.bad_jwts).toBe(0);
    expect(Number(seen.issued)).toBeGreaterThan(0);
    // No installation token, app JWT or user token shows in the page.
    const html = await page.content();
    const logged = platform.output.join("");
    for (const secret of seen.secrets as string[]) {
      expect(html).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toContain(github.settings.LOGDAWG_GITHUB_APP_WEBHOOK_SECRET);
    expect(logged).not.toContain(github.settings.LOGDAWG_GITHUB_APP_CLIENT_SECRET);
  });

  it("waits for an organisation owner when GitHub only records a request", async () => {
    const { platform, github } = running();
    await github.command({ set: { install_as: "member", install_target: 43 } });
    await page.goto(`${platform.url}/repositories`);
    await page.getByLabel("GitHub organisation or user to install on").fill("globex");
    await page.getByRole("button", { name: "Connect GitHub" }).click();
    await page.getByRole("heading", { name: "Request log-dawg-e2e" }).waitFor();
    await page.getByRole("button", { name: "Request" }).click();
    await page.waitForURL(/\/repositories\?requested=1/);
    const waiting = page.getByRole("status").filter({ hasText: "Requested — waiting for a GitHub organisation owner of globex" });
    await visit("github-request-waiting", async () => {
      await waiting.waitFor();
      await waiting.getByText(/by mona on GitHub/).waitFor();
    });
    expect((await github.command({ state: true })).install_requests).toEqual(["globex"]);
    // The owner approves on GitHub: the webhook completes it, and the page notices by itself.
    const approved = await fetch(`${github.url}/_owner/approve/globex`);
    expect(approved.status).toBe(200);
    await page.getByRole("button", { name: "Choose repositories of globex" }).waitFor({ timeout: 20_000 });
    await visit("github-request-approved", async () => {
      expect(await waiting.count()).toBe(0);
    });
  });

  it("marks the repository unreachable, with what to do, when the app is uninstalled", async () => {
    const { platform, github } = running();
    const sent = await github.command({
      send: { event: "installation", payload: { action: "deleted", installation: { id: 42, account: { login: "acme" } } } },
    });
    expect(sent.status).toBe(200);
    await page.goto(`${platform.url}/repositories`);
    const row = page.getByRole("row").filter({ hasText: "acme/shop" });
    await visit("github-unreachable", async () => {
      await row.getByRole("alert").filter({ hasText: "uninstalled from acme" }).waitFor();
      await row.getByText(/What to do: Install the GitHub App again/).waitFor();
      await page.getByRole("alert").filter({ hasText: "1 repository can no longer be read" }).waitFor();
    });
  });

  it("offers Azure DevOps through Entra ID, and says why a PEM without its certificate is refused", async () => {
    const { platform } = running();
    await page.goto(`${platform.url}/repositories`);
    const form = page.locator("section").filter({ has: page.getByRole("heading", { name: "Connect Azure DevOps without a PAT" }) });
    await form.getByLabel("Azure DevOps organisation").fill("contoso");
    await form.getByLabel("Azure DevOps project").fill("Shop");
    await form.getByLabel("Azure DevOps repository").fill("shop");
    await form.getByLabel("Your own service principal").check();
    await form.getByLabel("Directory (tenant) ID").fill("8b1f6a52-4e1c-4d2a-9c3e-1f0a2b3c4d5e");
    await form.getByLabel("Application (client) ID").fill("6e2c5a11-9b7d-4f3e-8a21-7c6b5d4e3f20");
    await form.getByLabel("A certificate").check();
    await form.getByLabel(/Certificate: one PEM/).fill("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
    await form.getByRole("button", { name: "Connect Azure DevOps repository" }).click();
    await visit("azure-devops-certificate-refused", async () => {
      await form.getByRole("alert").filter({ hasText: "holds no X.509 certificate" }).waitFor();
      expect(await form.getByRole("alert").textContent()).not.toContain("MIIB");
    });
  });
});
