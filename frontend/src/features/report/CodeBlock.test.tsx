import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { CodeBlock, languageOf } from "./CodeBlock";

const snippet = {
  start_line: 44,
  end_line: 46,
  content: "int a = 1;\nif (!f) return NULL;\nreturn f;\n",
  highlight_line: 45,
};

describe("CodeBlock", () => {
  it("numbers the lines and marks the culprit line", () => {
    render(<CodeBlock path="src/shader.c" snippet={snippet} label="culprit code" />);
    const code = screen.getByLabelText("culprit code");
    const marked = code.querySelector('[data-highlighted="true"]');
    expect(marked?.getAttribute("data-line")).toBe("45");
    expect(marked?.textContent).toContain("Culprit line 45");
    expect(code.querySelectorAll("[data-line]")).toHaveLength(3);
  });

  it("colours the syntax once highlight.js has loaded, keeping the text", async () => {
    render(<CodeBlock path="src/shader.c" snippet={snippet} label="code" />);
    await waitFor(() => expect(screen.getByLabelText("code").querySelector(".hljs-keyword")).not.toBeNull());
    expect(screen.getByLabelText("code").textContent).toContain("if (!f) return NULL;");
  });

  it("knows the languages by extension", () => {
    expect(languageOf("a/b.py")).toBe("python");
    expect(languageOf("x.TSX")).toBe("typescript");
    expect(languageOf("Makefile")).toBeNull();
  });
});
