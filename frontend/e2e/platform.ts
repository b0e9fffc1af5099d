/** Starts the real platform for the browser tests: `logdawg up` (embedded PostgreSQL, the
 * API serving the built SPA, a worker) on a free port, in a data directory of its own. */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const PYTHON = path.join(ROOT, ".venv/bin/python");

export interface Platform {
  url: string;
  workerPid: number;
  dataDir: string;
  output: string[];
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

/** The eval suite's C repository: src/shader.c with the failing line 45 and its history. */
export function buildShaderRepository(root: string): string {
  const code =
    "import sys, pathlib\n" +
    "from tests.eval.cases import build_repository, cases\n" +
    "case = next(c for c in cases() if c.name == 'c-shader')\n" +
    "print(build_repository(case, pathlib.Path(sys.argv[1])))\n";
  return execFileSync(PYTHON, ["-c", code, root], { cwd: ROOT, encoding: "utf8" }).trim();
}

export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), "logdawg-e2e-"));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("LOGDAWG_")),
  ) as Record<string, string>;
  const proc: ChildProcess = spawn(
    PYTHON,
    ["-m", "app.cli", "up", "--port", String(port), "--data-dir", path.join(dataDir, "data")],
    { cwd: ROOT, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`logdawg up did not start:\n${output.join("")}`)), 120_000);
    const read = (chunk: Buffer) => {
      output.push(chunk.toString());
      const text = output.join("");
      const pid = /python -m worker \(pid (\d+)\)/.exec(text);
      if (pid?.[1] && text.includes("Ctrl-C stops everything")) {
        clearTimeout(timer);
        resolve(Number(pid[1]));
      }
    };
    proc.stdout?.on("data", read);
    proc.stderr?.on("data", read);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`logdawg up exited ${String(code)}:\n${output.join("")}`));
    });
  });
  const workerPid = await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    workerPid,
    dataDir,
    output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) {
          resolve();
          return;
        }
        proc.once("exit", () => resolve());
        proc.kill("SIGINT");
        setTimeout(() => proc.kill("SIGKILL"), 30_000).unref();
      }),
  };
}
