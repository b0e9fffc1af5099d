/**
 * The SPA as Azure serves it, on this machine: the one build (frontend/dist) on a static host of
 * its own origin, made this "stack's" by the deploy-time script (scripts/spa_config.py writes
 * /config.json and the CSP connect-src), served with the headers of staticwebapp.config.json as
 * Static Web Apps does, calling the real platform on another origin that allows it by
 * LOGDAWG_CORS_ORIGINS. The browser enforces CORS and the CSP here (no bypass).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launch, screenshot } from "./browser";
import { ROOT, startPlatform, type Platform } from "./platform";

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

interface SwaConfig {
  globalHeaders: Record<string, string>;
  navigationFallback: { rewrite: string; exclude: string[] };
}

/** A static host with Static Web Apps' rules that matter here: files, the global headers,
 * index.html for client routes but never for excluded paths (a 404 there). */
function staticHost(site: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    // Read per request: the deploy step rewrites it after the host has started.
    const config = JSON.parse(readFileSync(path.join(site, "staticwebapp.config.json"), "utf8")) as SwaConfig;
    const excluded = (url: string) =>
      config.navigationFallback.exclude.some((p) => (p.endsWith("/*") ? url.startsWith(p.slice(0, -1)) : url === p));
    const url = new URL(request.url ?? "/", "http://host").pathname;
    let file = path.join(site, path.normalize(url));
    if (!file.startsWith(site) || !existsSync(file) || url.endsWith("/")) {
      file = excluded(url) ? "" : path.join(site, "index.html");
    }
    for (const [name, value] of Object.entries(config.globalHeaders)) response.setHeader(name, value);
    if (!file || !existsSync(file)) {
      response.writeHead(404).end("not found");
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    response.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = address && typeof address === "object" ? address.port : 0;
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    });
  });
}

let platform: Platform | undefined;
let host: { server: Server; origin: string } | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  const dist = path.join(ROOT, "frontend/dist");
  if (!existsSync(path.join(dist, "index.html"))) {
    throw new Error("frontend/dist is not built: run scripts/test-frontend (it builds first)");
  }
  const site = mkdtempSync(path.join(tmpdir(), "logdawg-swa-"));
  cpSync(dist, site, { recursive: true });
  host = await staticHost(site);
  platform = await startPlatform({ LOGDAWG_CORS_ORIGINS: host.origin });
  // What deploy.sh runs for a stack, with this platform as the stack's API.
  execFileSync(path.join(ROOT, ".venv/bin/python"), ["scripts/spa_config.py", site, platform.url], { cwd: ROOT });
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  host?.server.close();
  await platform?.stop();
}, 60_000);

describe("the SPA on a static host of its own, the API elsewhere", () => {
  it("finds the API in /config.json and calls it across origins, within its CSP", async () => {
    if (!browser || !platform || !host) throw new Error("not started");
    const page = await browser.newPage();
    const calls: string[] = [];
    const refused: string[] = [];
    page.on("request", (request) => calls.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") refused.push(message.text());
    });
    await page.goto(`${host.origin}/`);
    try {
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      await page.getByRole("heading", { name: "System health" }).waitFor();
      await page.getByText("Nothing yet.").waitFor();
    } catch (error) {
      console.error(`screenshot: ${await screenshot(page, "failed-static-host")}\n${refused.join("\n")}`);
      throw error;
    }
    if (process.env.LOGDAWG_E2E_SCREENSHOTS === "1") await screenshot(page, "static-host-overview");
    const api = calls.filter((url) => url.includes("/api/v1/"));
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((url) => url.startsWith(`${platform?.url ?? "?"}/`))).toBe(true);
    expect(calls).toContain(`${host.origin}/config.json`);
    expect(refused.filter((text) => /CORS|Content Security Policy/i.test(text))).toEqual([]);
    await page.close();
  });
});
