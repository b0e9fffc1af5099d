/**
 * Notifications and write-back in a real browser against the real platform: add a Slack rule on
 * the Notifications page (its webhook URL is never shown again, only a hint), then, from a
 * report diagnosed with a GitHub repository, create the GitHub issue against a GitHub stand-in
 * on 127.0.0.1 and see the link. axe-core checks each page.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { axeProblems, launch, screenshot } from "./browser";
import { ROOT, startPlatform, type Platform } from "./platform";

const KEEP_ALL = process.env.LOGDAWG_E2E_SCREENSHOTS === "1";
const TOKEN = "e2e-github-token";
const SLACK_SECRET = "https://hooks.slack.example/services/T000/B000/e2eSECRETtoken";
const LOG =
  "Traceback (most recent call last):\n" +
  '  File "/srv/shop/src/app/cart.py", line 12, in total\n' +
  "    total = sum(prices)\n" +
  "TypeError: unsupported operand type(s) for +: 'int' and 'str'";

interface GitHubStandIn {
  proc: ChildProcess;
  url: string;
  issues: unknown[];
}

let platform: Platform | undefined;
let github: GitHubStandIn | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page!: Page;

async function visit(name: string, check: () => Promise<void>) {
  onTestFailed(async () => {
    const file = await screenshot(page, `failed-${name}`);
    console.error(`screenshot of the failing page: ${file}\n${platform?.output.join("").slice(-3000) ?? ""}`);
  });
  await check();
  expect(await axeProblems(page), `accessibility of ${name}`).toEqual([]);
  if (KEEP_ALL) await screenshot(page, name);
}

const running = (): Platform => {
  if (!platform) throw new Error("the platform did not start");
  return platform;
};
const gitHub = (): GitHubStandIn => {
  if (!github) throw new Error("the GitHub stand-in did not start");
  return github;
};

function startGitHub(): Promise<GitHubStandIn> {
  const dir = mkdtempSync(path.join(tmpdir(), "logdawg-github-"));
  const proc = spawn(path.join(ROOT, ".venv/bin/python"), ["-m", "tests.fakes.serve_github", dir, TOKEN], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const issues: unknown[] = [];
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.on("line", (line) => {
      const message = JSON.parse(line) as { url?: string; issue?: unknown };
      if (message.url) resolve({ proc, url: message.url, issues });
      if (message.issue) issues.push(message.issue);
    });
    proc.on("exit", (code) => reject(new Error(`the GitHub stand-in exited ${String(code)}`)));
  });
}

async function api<T>(method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${running().url}${route}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

beforeAll(async () => {
  [platform, github] = await Promise.all([startPlatform(), startGitHub()]);
  browser = await launch();
  context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
  github?.proc.stdin?.end();
  github?.proc.kill();
}, 60_000);

describe("notifications and write-back", () => {
  it("adds a Slack rule whose webhook URL is write-only", async () => {
    await page.goto(`${running().url}/notifications`);
    await visit("notifications", async () => {
      await page.getByText("No notification rules yet.").waitFor();
      await page.getByLabel("Name").fill("on-call");
      await page.getByLabel("When").selectOption("regression");
      await page.getByLabel("Webhook URL").fill(SLACK_SECRET);
      await page.getByRole("button", { name: "Add rule" }).click();
      await page.getByRole("cell", { name: "on-call" }).waitFor();
      await page.getByRole("cell", { name: "A regression" }).waitFor();
      await page.getByText("hooks.slack.example …oken").waitFor();
      expect(await page.content()).not.toContain("e2eSECRETtoken");
      await page.getByRole("button", { name: "Delivery log" }).click();
      await page.getByText("Nothing sent yet.").waitFor();
    });
  });

  it("creates a GitHub issue from a report and shows its link", async () => {
    const repository = await api<{ id: string }>("POST", "/api/v1/repositories", {
      provider: "github",
      owner: "acme",
      name: "shop",
      base_url: gitHub().url,
      token: TOKEN,
    });
    const submitted = await api<{ diagnosis_id: string }>("POST", "/api/v1/logs/diagnose", {
      log_data: { content: LOG },
      repository_id: repository.id,
    });
    await page.goto(`${running().url}/reports/${submitted.diagnosis_id}`);
    await page.getByTestId("report-status").getByText("complete").waitFor({ timeout: 60_000 });
    await visit("report-create-issue", async () => {
      await page.getByText("No GitHub issue yet.").waitFor();
      await page.getByRole("button", { name: "Create GitHub issue" }).click();
      const link = page.getByRole("link", { name: "GitHub issue #1" });
      await link.waitFor();
      expect(await link.getAttribute("href")).toBe("https://github.com/acme/shop/issues/1");
    });
    await expect.poll(() => gitHub().issues.length).toBe(1);
    const [issue] = gitHub().issues as { title: string; body: string }[];
    expect(issue?.body).toContain(`/reports/${submitted.diagnosis_id}`);
    // A reload shows the remembered link; the button is gone (no second issue).
    await page.reload();
    await page.getByRole("link", { name: "GitHub issue #1" }).waitFor();
    expect(await page.getByRole("button", { name: "Create GitHub issue" }).count()).toBe(0);
    if (KEEP_ALL) await screenshot(page, "report-linked-issue");
  });
});
