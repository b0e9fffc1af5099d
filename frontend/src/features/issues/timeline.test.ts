import { describe, expect, it } from "vitest";
import { describe as say, ignoreChange, toggled, toggledAll } from "./timeline";

const at = "2026-11-30T12:00:00Z";
const alice = { id: "u1", name: "Alice" };

describe("timeline sentences", () => {
  it("names who changed the state, and where it was resolved", () => {
    expect(say({ kind: "resolved", at, actor: alice, data: { release: "1.2" } })).toBe("Alice resolved it in release 1.2");
    expect(say({ kind: "resolved", at, actor: alice, data: { commit: "0123456789abcdef" } })).toBe("Alice resolved it in commit 0123456789ab");
    expect(say({ kind: "unresolved", at, actor: alice, data: {} })).toBe("Alice reopened it");
    expect(say({ kind: "ignored", at, actor: alice, data: { occurrences: 1 } })).toBe("Alice ignored it until 1 more occurrence");
  });

  it("says what a regression was seen in and what it was resolved in", () => {
    expect(say({ kind: "regression", at, actor: null, data: { release: "1.3", resolved_in_release: "1.2" } })).toBe(
      "Regression: seen again in release 1.3 (resolved in 1.2), reopened",
    );
    expect(say({ kind: "regression", at, actor: null, data: {} })).toBe("Regression: seen again in a new occurrence, reopened");
  });

  it("explains the platform's own changes", () => {
    expect(say({ kind: "ignore_lapsed", at, actor: null, data: { reason: "date" } })).toMatch(/ignore period ended/);
    expect(say({ kind: "ignore_lapsed", at, actor: null, data: { reason: "occurrences" } })).toMatch(/often enough/);
    const names = new Map([["u2", "Bob"]]);
    expect(say({ kind: "assigned", at, actor: null, data: { assignee_id: "u2", source: "codeowners" } }, names)).toBe(
      "Assigned to Bob (code owner of the culprit file)",
    );
    expect(say({ kind: "assigned", at, actor: alice, data: { assignee_id: "u3" } }, names)).toBe("Alice assigned it to someone");
  });
});

describe("selection", () => {
  it("toggles one id and all shown", () => {
    const one = toggled(new Set(), "a");
    expect([...one]).toEqual(["a"]);
    expect([...toggled(one, "a")]).toEqual([]);
    expect([...toggledAll(one, ["a", "b"])].sort()).toEqual(["a", "b"]);
    expect([...toggledAll(new Set(["a", "b"]), ["a", "b"])]).toEqual([]);
    expect([...toggledAll(new Set(), [])]).toEqual([]);
  });
});

describe("the ignore form", () => {
  it("turns its fields into a state change or says what is wrong", () => {
    expect(ignoreChange("", "")).toEqual({ state: "ignored" });
    expect(ignoreChange("10", "")).toEqual({ state: "ignored", count: 10 });
    expect(ignoreChange("0", "")).toMatch(/at least 1/);
    expect(ignoreChange("2.5", "")).toMatch(/whole number/);
    const change = ignoreChange("", "2026-12-24");
    expect(typeof change === "object" && change.until).toBe(new Date("2026-12-24T00:00:00").toISOString());
  });
});
