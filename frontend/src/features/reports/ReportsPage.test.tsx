import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, renderPage, stubApi } from "../../test/render";
import { ReportsPage } from "./ReportsPage";

const report = {
  id: "6c0e0000-0000-4000-8000-000000000001",
  status: "complete",
  created_at: new Date().toISOString(),
  completed_at: null,
  repo_id: null,
  commit_hash: null,
  fingerprint: "f",
  title: "ShaderCompilationError: bad shader",
  error_type: "ShaderCompilationError",
  source: "cloudwatch",
  occurrence_count: 3,
  category: "missing file",
  culprit: "src/shader.c:45",
  confidence: 0.75,
  last_seen_at: new Date().toISOString(),
};

function api(pages: Record<string, unknown>) {
  return stubApi((url) => {
    if (url.pathname === "/api/v1/repositories") return json([]);
    if (url.pathname === "/api/v1/stats") return json({ by_category: { "missing file": 1 } });
    if (url.pathname === "/api/v1/reports") return json(pages[url.searchParams.get("cursor") ?? ""] ?? pages[""]);
    return json({ detail: "not here" }, 404);
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("ReportsPage", () => {
  it("lists reports with their culprit and occurrences, and pages with the cursor", async () => {
    const calls = api({
      "": { items: [report], next_cursor: "c2" },
      c2: { items: [{ ...report, id: "6c0e0000-0000-4000-8000-000000000002", title: "Older one" }], next_cursor: null },
    });
    renderPage(<ReportsPage />, { path: "/reports" });
    expect(await screen.findByRole("link", { name: "ShaderCompilationError: bad shader" })).toBeInTheDocument();
    expect(screen.getByText("src/shader.c:45")).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "3" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Older reports" }));
    expect(await screen.findByRole("link", { name: "Older one" })).toBeInTheDocument();
    expect(calls.some((u) => u.searchParams.get("cursor") === "c2")).toBe(true);
    expect(screen.queryByRole("button", { name: "Older reports" })).not.toBeInTheDocument();
  });

  it("sends the search and filters to the API", async () => {
    const calls = api({ "": { items: [], next_cursor: null } });
    renderPage(<ReportsPage />, { path: "/reports" });
    await screen.findByText(/No reports yet/);
    await userEvent.type(screen.getByRole("searchbox", { name: "Search" }), "malloc corrupted{Enter}");
    await userEvent.selectOptions(screen.getByLabelText("Status"), "failed");
    await screen.findByText("No report matches these filters.");
    await waitFor(() => {
      const last = calls.filter((u) => u.pathname === "/api/v1/reports").at(-1);
      expect(last?.searchParams.get("q")).toBe("malloc corrupted");
      expect(last?.searchParams.get("status")).toBe("failed");
    });
  });

  it("shows the problem's detail when the API refuses", async () => {
    stubApi((url) =>
      url.pathname === "/api/v1/reports"
        ? json({ detail: "the cursor is not one this API handed out" }, 422)
        : url.pathname === "/api/v1/stats"
          ? json({ by_category: {} })
          : json([]),
    );
    renderPage(<ReportsPage />, { path: "/reports" });
    expect(await screen.findByRole("alert")).toHaveTextContent("the cursor is not one this API handed out");
  });

  it("polls while a report is pending, until it completes", async () => {
    let polls = 0;
    stubApi((url) => {
      if (url.pathname === "/api/v1/stats") return json({ by_category: {} });
      if (url.pathname !== "/api/v1/reports") return json([]);
      polls += 1;
      return json({ items: [{ ...report, status: polls < 2 ? "pending" : "complete" }], next_cursor: null });
    });
    renderPage(<ReportsPage />, { path: "/reports" });
    expect(await screen.findByText("pending")).toBeInTheDocument();
    expect(await screen.findByText("complete", {}, { timeout: 3000 })).toBeInTheDocument();
  });
});
