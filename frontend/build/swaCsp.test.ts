import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allowApiOrigin } from "./swaCsp";

const csp = (file: string) =>
  (JSON.parse(readFileSync(file, "utf8")) as { globalHeaders: Record<string, string> }).globalHeaders[
    "Content-Security-Policy"
  ];

describe("the Static Web Apps CSP of a build", () => {
  it("lets the app reach an API on another origin, and nothing else more", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "swa-")), "staticwebapp.config.json");
    copyFileSync(path.resolve(import.meta.dirname, "../public/staticwebapp.config.json"), file);
    allowApiOrigin(file, "https://app-logdawg-api-dev.azurewebsites.net/some/path");
    expect(csp(file)).toContain("connect-src 'self' https://app-logdawg-api-dev.azurewebsites.net https://login.microsoftonline.com;");
    expect(csp(file)).toContain("script-src 'self';");
  });

  it("stays same-origin when the API is linked under /api", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "swa-")), "staticwebapp.config.json");
    copyFileSync(path.resolve(import.meta.dirname, "../public/staticwebapp.config.json"), file);
    const before = csp(file);
    allowApiOrigin(file, "");
    expect(csp(file)).toBe(before);
  });
});
