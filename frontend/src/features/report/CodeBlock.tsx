import { useEffect, useState } from "react";
import type { Snippet } from "./types";
import styles from "./Report.module.css";

type Highlighter = (line: string) => string | null;

const LANGUAGES: Record<string, () => Promise<{ default: import("highlight.js").LanguageFn }>> = {
  c: () => import("highlight.js/lib/languages/c"),
  cpp: () => import("highlight.js/lib/languages/cpp"),
  python: () => import("highlight.js/lib/languages/python"),
  javascript: () => import("highlight.js/lib/languages/javascript"),
  typescript: () => import("highlight.js/lib/languages/typescript"),
  java: () => import("highlight.js/lib/languages/java"),
  kotlin: () => import("highlight.js/lib/languages/kotlin"),
  go: () => import("highlight.js/lib/languages/go"),
  rust: () => import("highlight.js/lib/languages/rust"),
  csharp: () => import("highlight.js/lib/languages/csharp"),
  ruby: () => import("highlight.js/lib/languages/ruby"),
  php: () => import("highlight.js/lib/languages/php"),
};
const EXTENSIONS: Record<string, string> = {
  c: "c", h: "c", cc: "cpp", cpp: "cpp", hpp: "cpp", py: "python", js: "javascript",
  mjs: "javascript", jsx: "javascript", ts: "typescript", tsx: "typescript", java: "java",
  kt: "kotlin", go: "go", rs: "rust", cs: "csharp", rb: "ruby", php: "php",
};

export function languageOf(path: string): string | null {
  return EXTENSIONS[path.split(".").pop()?.toLowerCase() ?? ""] ?? null;
}

/** highlight.js (core plus the one language) is fetched only when code is shown. */
async function loadHighlighter(language: string): Promise<Highlighter> {
  const load = LANGUAGES[language];
  if (!load) return () => null;
  const [{ default: hljs }, { default: grammar }] = await Promise.all([
    import("highlight.js/lib/core"),
    load(),
  ]);
  if (!hljs.getLanguage(language)) hljs.registerLanguage(language, grammar);
  // Line by line, so every line stays its own element (HTML escaped by highlight.js).
  return (line) => hljs.highlight(line, { language, ignoreIllegals: true }).value;
}

export function CodeBlock({ path, snippet, label }: { path: string; snippet: Snippet; label: string }) {
  const [highlight, setHighlight] = useState<Highlighter | null>(null);
  const language = languageOf(path);
  useEffect(() => {
    let live = true;
    if (language) {
      void loadHighlighter(language).then((h) => {
        if (live) setHighlight(() => h);
      });
    }
    return () => {
      live = false;
    };
  }, [language]);
  const lines = snippet.content.replace(/\n$/, "").split("\n");
  return (
    <figure className={styles.code}>
      <figcaption>
        <code>{path}</code> lines {snippet.start_line}–{snippet.end_line}
      </figcaption>
      <pre tabIndex={0} aria-label={label}>
        <code className="hljs">
          {lines.map((text, i) => {
            const number = snippet.start_line + i;
            const marked = number === snippet.highlight_line;
            const html = highlight?.(text);
            return (
              <span
                key={number}
                className={marked ? `${styles.line} ${styles.marked}` : styles.line}
                data-line={number}
                data-highlighted={marked ? "true" : undefined}
              >
                <span className={styles.number} aria-hidden="true">
                  {number}
                </span>
                {marked && <span className={styles.srOnly}>Culprit line {number}: </span>}
                {html != null ? (
                  <span dangerouslySetInnerHTML={{ __html: html || " " }} />
                ) : (
                  <span>{text || " "}</span>
                )}
                {"\n"}
              </span>
            );
          })}
        </code>
      </pre>
    </figure>
  );
}
