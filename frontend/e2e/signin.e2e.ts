/**
 * Signing in on a multi-tenant platform on one machine (the development issuer stands in for
 * Entra ID): sign in as someone, create an organisation, see the members page with its
 * owner, invite a colleague, sign out. axe-core checks each page.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { axeProblems, launch, screenshot } from "./browser";
import { startPlatform, type Platform } from "./platform";

const KEEP_ALL = process.env.LOGDAWG_E2E_SCREENSHOTS === "1";
let platform: Platform | undefined;
let browser: Browser | undefined;
let page!: Page;
let invitationLink = "";

async function visit(name: string, check: () => Promise<void>) {
  onTestFailed(async () => {
    console.error(`screenshot of the failing page: ${await screenshot(page, `failed-${name}`)}`);
  });
  await check();
  expect(await axeProblems(page), `accessibility of ${name}`).toEqual([]);
  if (KEEP_ALL) await screenshot(page, name);
}

beforeAll(async () => {
  platform = await startPlatform({ LOGDAWG_MODE: "multi_tenant", LOGDAWG_AUTH_PROVIDER: "dev" });
  browser = await launch();
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
}, 60_000);

describe("signing in", () => {
  it("signs in with the development issuer and creates an organisation", async () => {
    await page.goto(platform?.url ?? "");
    await visit("sign-in", async () => {
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
    });
    await page.getByLabel("E-mail").fill("ada@example.com");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByRole("button", { name: "Sign in" }).click();
    await visit("no-organisation", async () => {
      await page.getByRole("heading", { name: "Welcome to Log Dawg" }).waitFor();
    });
    await page.getByLabel("Organisation name").fill("Analytical Engines");
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByText("Ada Lovelace (owner)").waitFor();
  });

  it("lists the members and invites a colleague with a one-time link", async () => {
    await page.getByRole("link", { name: "Members" }).click();
    await visit("members", async () => {
      await page.getByRole("cell", { name: "ada@example.com" }).waitFor();
      await page.getByLabel("E-mail").fill("charles@example.com");
      await page.locator("form").getByLabel("Role").selectOption("viewer");
      await page.getByRole("button", { name: "Invite" }).click();
      invitationLink = (await page.getByText(/\/invitations\/accept\?token=/).textContent()) ?? "";
      await page.getByRole("listitem").filter({ hasText: "charles@example.com (viewer)" }).waitFor();
    });
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const me = await page.request.get(`${platform?.url ?? ""}/api/v1/me`);
    expect(me.status()).toBe(401);
  });

  it("lets the invited colleague join as a viewer, who is offered reading only", async () => {
    expect(invitationLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invitations\/accept\?token=/);
    await page.goto(invitationLink);
    await page.getByLabel("E-mail").fill("charles@example.com");
    await page.getByLabel("Name").fill("Charles Babbage");
    await page.getByRole("button", { name: "Sign in" }).click();
    await visit("accept-invitation", async () => {
      await page.getByRole("heading", { name: "Join an organisation" }).waitFor();
    });
    await page.getByRole("button", { name: "Accept invitation" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByText("Charles Babbage (viewer)").waitFor();
    expect(await page.getByRole("link", { name: "Submit a log" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "API keys" }).count()).toBe(0);
    await page.getByRole("link", { name: "Repositories" }).click();
    await page.getByText("No repository yet.").waitFor();
    expect(await page.getByRole("heading", { name: "Register a repository" }).count()).toBe(0);
  });
});
