/**
 * The GitHub App install on a multi-tenant platform (the development issuer stands in for
 * Entra ID), in a real browser: a signed-in owner leaves for GitHub's install page; the link
 * GitHub sends back is refused to a person of another organisation (the one-time state belongs
 * to the organisation and the person who started the install), connecting nothing there; the
 * owner, still signed in after the round trip, completes the install with it.
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
let callback = "";

const running = () => {
  if (!platform || !github || !browser) throw new Error("the platform or the fake GitHub did not start");
  return { platform, github, browser };
};

async function visit(page: Page, name: string, check: () => Promise<void>, axe = true) {
  onTestFailed(async () => {
    console.error(`screenshot of the failing page: ${await screenshot(page, `failed-${name}`)}`);
    console.error(platform?.output.join("").slice(-3000) ?? "");
  });
  await check();
  if (axe) expect(await axeProblems(page), `accessibility of ${name}`).toEqual([]);
  if (KEEP_ALL) await screenshot(page, name);
}

async function signIn(page: Page, email: string, name: string, organisation: string) {
  await page.goto(running().platform.url);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Organisation name").fill(organisation);
  await page.getByRole("button", { name: "Create organisation" }).click();
  await page.getByText(`${name} (owner)`).waitFor();
}

beforeAll(async () => {
  github = await startFakeGitHub();
  platform = await startPlatform({
    ...github.settings,
    LOGDAWG_MODE: "multi_tenant",
    LOGDAWG_AUTH_PROVIDER: "dev",
  });
  await github.command({
    set: {
      callback_url: `${platform.url}/github/installed`,
      webhook_url: `${platform.url}/api/v1/webhooks/github`,
    },
  });
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  github?.stop();
}, 60_000);

describe("the GitHub App install, signed in", () => {
  let ada: BrowserContext | undefined;

  it("sends a signed-in owner to GitHub with a one-time state", async () => {
    const { platform, browser } = running();
    ada = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await ada.newPage();
    await signIn(page, "ada@acme.example", "Ada Lovelace", "Acme Engines");
    await page.getByRole("link", { name: "Repositories" }).click();
    await page.getByLabel("GitHub organisation or user to install on").fill("acme");
    await page.getByRole("button", { name: "Connect GitHub" }).click();
    await page.getByRole("heading", { name: "Install log-dawg-e2e" }).waitFor();
    // GitHub sends the browser back with the state, the installation and a code: held here,
    // so that someone else can try the link first.
    // (The browser follows GitHub's redirect itself, so the test answers the install page's
    // form in its place and keeps the redirect's Location.)
    await page.route(
      (url) => url.pathname === "/apps/log-dawg-e2e/installations/new",
      async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        const answer = await route.fetch({ maxRedirects: 0 });
        callback = answer.headers()["location"] ?? "";
        await route.fulfill({ status: 200, contentType: "text/html", body: "<p>held by the test</p>" });
      },
    );
    await page.getByRole("button", { name: "Install" }).click();
    await page.getByText("held by the test").waitFor();
    await page.unrouteAll();
    expect(callback.startsWith(`${platform.url}/github/installed?`)).toBe(true);
    expect(callback).toMatch(/installation_id=42/);
    expect(callback).toMatch(/[?&]state=/);
  });

  it("refuses the callback link to someone of another organisation, connecting nothing", async () => {
    const { platform, browser } = running();
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, "eve@globex.example", "Eve Example", "Globex");
    await page.goto(callback);
    await visit(page, "github-callback-refused", async () => {
      await page.getByRole("alert").filter({ hasText: "this install link is unknown or was already used" }).waitFor();
    });
    await page.goto(`${platform.url}/repositories`);
    await page.getByRole("heading", { name: "Connect GitHub" }).waitFor();
    expect(await page.getByRole("row").filter({ hasText: "acme/shop" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Choose repositories of acme/ }).count()).toBe(0);
    await context.close();
  });

  it("completes the install for the owner who started it, still signed in after the redirect", async () => {
    const { github } = running();
    const page = ada?.pages()[0];
    if (!ada || !page) throw new Error("the first test did not sign Ada in");
    onTestFailed(async () => {
      console.error(`screenshot of the failing page: ${await screenshot(page, "failed-github-owner-completes")}`);
      console.error(platform?.output.join("").slice(-6000) ?? "");
    });
    await page.goto(callback);
    await page.waitForURL(/\/repositories\?connected=/);
    await visit(page, "github-signed-in-choose-repositories", async () => {
      await page.getByText("Ada Lovelace (owner)").waitFor();
      const picker = page.getByRole("group", { name: "Repositories acme grants" });
      await picker.getByRole("checkbox", { name: /acme\/shop/ }).check();
    });
    await page.getByRole("button", { name: "Register 1 selected" }).click();
    await page.getByText("Registered acme/shop: read through the GitHub App.").waitFor();
    const row = page.getByRole("row").filter({ hasText: "acme/shop" });
    await row.getByText("GitHub App installation").waitFor();
    expect((await github.command({ state: true })).bad_jwts).toBe(0);
    await ada.close();
  });
});
