import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Plugin } from "vite";

/** Adds `apiBase`'s origin to the CSP connect-src of a built staticwebapp.config.json. */
export function allowApiOrigin(file: string, apiBase: string | undefined): void {
  if (!apiBase || !existsSync(file)) return;
  const origin = new URL(apiBase).origin;
  const config = JSON.parse(readFileSync(file, "utf8")) as { globalHeaders: Record<string, string> };
  const csp = config.globalHeaders["Content-Security-Policy"] ?? "";
  config.globalHeaders["Content-Security-Policy"] = csp.replace("connect-src 'self'", `connect-src 'self' ${origin}`);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** A build that calls its API on another origin (VITE_API_BASE_URL, e.g. a dev stack) must be
 * allowed to: the Static Web Apps config shipped with it gets that origin in its CSP. */
export function staticWebAppsCsp(): Plugin {
  let outDir = "dist";
  return {
    name: "logdawg-static-web-apps-csp",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      allowApiOrigin(path.join(outDir, "staticwebapp.config.json"), process.env.VITE_API_BASE_URL);
    },
  };
}
