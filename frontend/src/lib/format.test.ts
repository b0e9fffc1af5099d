import { describe, expect, it } from "vitest";
import { backoff, percent, when } from "./format";

describe("backoff", () => {
  it("starts at a second, grows while nothing changes, and stops growing at 15 s", () => {
    expect(backoff(0)).toBe(1000);
    expect(backoff(1)).toBe(1500);
    expect(backoff(2)).toBe(2250);
    expect(backoff(20)).toBe(15_000);
  });
});

describe("formatting", () => {
  it("says how long ago, and a dash for nothing", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    expect(when("2026-11-30T11:58:00Z", now)).toBe("2 minutes ago");
    expect(when("2026-11-29T12:00:00Z", now)).toBe("yesterday");
    expect(when(null, now)).toBe("—");
    expect(percent(0.756)).toBe("76%");
    expect(percent(null)).toBe("—");
  });
});
