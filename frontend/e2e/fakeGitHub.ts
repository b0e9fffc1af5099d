/** The fake GitHub of tests/e2e/github_app_fake.py as a child process: its install page and
 * redirect, the app's JWT-checked endpoints and signed webhooks, driven by JSON commands. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface, type Interface } from "node:readline";
import { ROOT } from "./platform";

const PYTHON = path.join(ROOT, ".venv/bin/python");

export interface FakeGitHub {
  url: string;
  settings: Record<string, string>;
  command: (command: object) => Promise<Record<string, unknown>>;
  stop: () => void;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const dir = mkdtempSync(path.join(tmpdir(), "logdawg-github-"));
  const proc: ChildProcess = spawn(PYTHON, ["-m", "tests.e2e.github_app_fake", dir], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  if (!proc.stdout || !proc.stdin) throw new Error("no pipes to the fake GitHub");
  const lines: Interface = createInterface({ input: proc.stdout });
  const waiting: ((line: string) => void)[] = [];
  const ready: string[] = [];
  lines.on("line", (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else ready.push(line);
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const early = ready.shift();
      if (early !== undefined) resolve(early);
      else waiting.push(resolve);
      setTimeout(() => reject(new Error("the fake GitHub did not answer")), 60_000).unref();
    });
  const started = JSON.parse(await nextLine()) as { url: string; settings: Record<string, string> };
  const stdin = proc.stdin;
  return {
    ...started,
    command: async (command) => {
      stdin.write(`${JSON.stringify(command)}\n`);
      const answer = JSON.parse(await nextLine()) as Record<string, unknown>;
      if ("error" in answer) throw new Error(`fake GitHub: ${String(answer.error)}`);
      return answer;
    },
    stop: () => {
      stdin.end();
      proc.kill("SIGTERM");
    },
  };
}
