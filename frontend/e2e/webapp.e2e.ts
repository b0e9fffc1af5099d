/**
 * The web app end to end, in a real browser against the real platform: register a local
 * repository, submit the sample log, watch its status change to complete without reloading,
 * read the report (src/shader.c line 45 highlighted), download its Markdown, resolve its
 * issue and reopen it from the issue list, manage an API key, delete the report. axe-core checks every page; on a failure the page's screenshot is
 * kept in frontend/e2e-artifacts/.
 */
import { readFileSync, existsSync, mkdtempSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { axeProblems, launch, screenshot } from "./browser";
import { buildShaderRepository, ROOT, startPlatform, type Platform } from "./platform";

const SAMPLE = path.join(ROOT, "tests/data/logs/malloc-craft-error.json");
// LOGDAWG_E2E_SCREENSHOTS=1 keeps every page's screenshot, not only a failing one's.
const KEEP_ALL = process.env.LOGDAWG_E2E_SCREENSHOTS === "1";

let platform: Platform | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page!: Page;
let reportId = "";
const running = (): Platform => {
  if (!platform) throw new Error("the platform did not start");
  return platform;
};

async function visit(name: string, check: () => Promise<void>) {
  onTestFailed(async () => {
    const file = await screenshot(page, `failed-${name}`);
    console.error(`screenshot of the failing page: ${file}\n${platform?.output.join("").slice(-3000) ?? ""}`);
  });
  await check();
  expect(await axeProblems(page), `accessibility of ${name}`).toEqual([]);
  if (KEEP_ALL) await screenshot(page, name);
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, "frontend/dist/index.html"))) {
    throw new Error("frontend/dist is not built: run scripts/test-frontend (it builds first)");
  }
  platform = await startPlatform();
  browser = await launch();
  context = await browser.newContext({
    // axe-core is injected as an inline script, which the app's own CSP rightly refuses.
    bypassCSP: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await platform?.stop();
}, 60_000);

describe("the web app", () => {
  it("opens on the overview, with the system's health", async () => {
    await page.goto(running().url);
    await visit("overview", async () => {
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      await page.getByRole("heading", { name: "System health" }).waitFor();
      expect(await page.getByText("ready", { exact: true }).count()).toBe(1);
      await page.getByText("Nothing yet.").waitFor();
    });
  });

  it("registers a local repository and tests its connection", async () => {
    const checkout = buildShaderRepository(mkdtempSync(path.join(tmpdir(), "logdawg-repo-")));
    await page.getByRole("link", { name: "Repositories" }).click();
    await visit("repositories", async () => {
      await page.getByText("No repository yet.").waitFor();
      await page.getByLabel("Provider").selectOption("local");
      await page.getByLabel("Repository name").fill("malloc-craft");
      await page.getByLabel("Path of the checkout").fill(checkout);
      await page.getByRole("button", { name: "Register repository" }).click();
      await page.getByRole("cell", { name: /malloc-craft/ }).waitFor();
      await page.getByRole("button", { name: "Test connection" }).click();
      await page.getByText(/✓ .*read main at [0-9a-f]{12}/).waitFor();
    });
  });

  it("submits the sample log and shows the status change to complete without reloading", async () => {
    await page.getByRole("link", { name: "Submit a log" }).click();
    await visit("submit", async () => {
      await page.getByRole("heading", { name: "Submit a log" }).waitFor();
    });
    // Hold the worker so the pending state is certainly seen; then let it go.
    process.kill(running().workerPid, "SIGSTOP");
    try {
      await page.getByLabel("Or choose a file").setInputFiles(SAMPLE);
      await expect.poll(() => page.getByRole("textbox", { name: /The log/ }).inputValue()).toContain("log_data");
      await page.getByRole("button", { name: "Diagnose" }).click();
      await page.waitForURL(/\/reports\/[0-9a-f-]{36}$/);
      reportId = page.url().split("/").pop() ?? "";
      await page.evaluate(() => {
        (window as unknown as { sameDocument: boolean }).sameDocument = true;
      });
      const status = page.getByTestId("report-status");
      await status.getByText("pending").waitFor();
    } finally {
      process.kill(running().workerPid, "SIGCONT");
    }
    await page.getByTestId("report-status").getByText("complete").waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  });

  it("shows the report with the culprit line highlighted and coloured", async () => {
    await visit("report", async () => {
      await page.getByRole("heading", { level: 1 }).filter({ hasText: /shader|Shader/ }).waitFor();
      const culprit = page.locator("figure", { hasText: "src/shader.c" }).locator('[data-highlighted="true"]');
      await culprit.waitFor();
      expect(await culprit.getAttribute("data-line")).toBe("45");
      // Syntax colouring arrived (highlight.js, loaded on demand).
      await page.locator("figure", { hasText: "src/shader.c" }).locator('[class^="hljs-"]').first().waitFor();
      await page.getByRole("heading", { name: "Suspect commits" }).waitFor();
      await page.getByRole("cell", { name: "compile_shader_from_file" }).waitFor();
      await page.getByText("in-app").first().waitFor();
      await page.getByText("heuristic", { exact: false }).first().waitFor();
    });
    if (process.env.LOGDAWG_E2E_DOCS_SCREENSHOT) {
      copyFileSync(await screenshot(page, "report-for-docs"), process.env.LOGDAWG_E2E_DOCS_SCREENSHOT);
    }
  });

  it("downloads the report as Markdown", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download Markdown" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`logdawg-${reportId}.md`);
    const file = await download.path();
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("# ")).toBe(true);
    expect(text).toContain("src/shader.c");
  });

  it("finds the report in the list by full-text search and filters", async () => {
    await page.getByRole("link", { name: "All reports" }).click();
    await visit("reports", async () => {
      await page.getByRole("heading", { name: "Reports" }).waitFor();
      await page.getByRole("searchbox", { name: "Search" }).fill("shader");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/q=shader/);
      await page.getByRole("link", { name: /shader/i }).first().waitFor();
      await page.getByRole("searchbox", { name: "Search" }).fill("nothing-like-this");
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByText("No report matches these filters.").waitFor();
      await page.getByRole("button", { name: "Clear filters" }).click();
      await page.getByLabel("Status").selectOption("complete");
      await page.getByRole("link", { name: /shader/i }).first().waitFor();
    });
  });

  it("resolves the report's issue in a release, and reopens it from the issue list", async () => {
    await page.goto(`${running().url}/reports/${reportId}`);
    await page.getByRole("link", { name: "View the issue" }).click();
    await page.waitForURL(/\/issues\/[0-9a-f-]{36}$/);
    await visit("issue", async () => {
      await page.getByRole("heading", { name: "Timeline" }).waitFor();
      await page.getByText("First seen", { exact: true }).first().waitFor();
      await page.getByText("unresolved", { exact: true }).first().waitFor();
      await page.getByLabel("In release (optional)").fill("1.2.0");
      await page.getByRole("button", { name: "Resolve", exact: true }).click();
      await page.getByText("resolved", { exact: true }).first().waitFor();
      await page.getByText(/resolved it in release 1\.2\.0/).waitFor();
      await page.getByText("in release 1.2.0", { exact: false }).first().waitFor();
    });
    await page.getByRole("link", { name: "Issues", exact: true }).first().click();
    await visit("issues", async () => {
      await page.getByRole("heading", { name: "Issues" }).waitFor();
      await page.getByText("No unresolved issues.").waitFor(); // the default view
      await page.getByLabel("State").selectOption("resolved");
      const title = await page.getByRole("table").getByRole("link").first().textContent();
      await page.getByRole("checkbox", { name: `Select ${title ?? ""}` }).check();
      await page.getByText("1 selected").waitFor();
      await page.getByRole("button", { name: "Reopen selected" }).click();
      await page.getByText("No issue matches these filters.").waitFor();
      await page.getByLabel("State").selectOption("unresolved");
      await page.getByRole("table").getByText("unresolved", { exact: true }).waitFor();
    });
  });

  it("creates an API key, shown once, and revokes it", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await visit("api-keys", async () => {
      await page.getByLabel("Name").fill("e2e source");
      await page.getByRole("button", { name: "Create key" }).click();
      const key = await page.getByLabel("New API key").textContent();
      expect(key).toMatch(/^ldk_/);
      await page.getByRole("button", { name: "Done" }).click();
      expect(await page.getByText(key ?? "").count()).toBe(0);
      await page.getByRole("button", { name: "Revoke" }).click();
      await page.getByRole("button", { name: "Revoke e2e source" }).click();
      await page.getByText(/^revoked/).waitFor();
    });
  });

  it("deletes the report", async () => {
    await page.goto(`${running().url}/reports/${reportId}`);
    await page.getByRole("button", { name: "Delete report" }).click();
    await page.getByRole("button", { name: "Delete for good" }).click();
    await page.waitForURL(/\/reports$/);
    await page.getByText("No reports yet.").waitFor();
    const gone = await page.request.get(`${running().url}/api/v1/reports/${reportId}`);
    expect(gone.status()).toBe(404);
    await page.goto(`${running().url}/reports/${reportId}`);
    await visit("report-gone", async () => {
      await page.getByRole("alert").getByText(`No report ${reportId}.`).waitFor();
    });
  });
});
