import { describe, expect, it } from "vitest";
import { requestFor } from "./request";

describe("requestFor", () => {
  it("takes a whole diagnose request (the sample file) as it is", () => {
    const file = JSON.stringify({ log_data: { content: { level: "ERROR" }, source: "cloudwatch" } });
    expect(requestFor(file, "r1")).toEqual({
      log_data: { content: { level: "ERROR" }, source: "cloudwatch" },
      repository_id: "r1",
    });
  });

  it("sends a JSON log object as the content, and text as text", () => {
    expect(requestFor('{"message": "boom"}', null)).toEqual({ log_data: { content: { message: "boom" } } });
    expect(requestFor("Traceback (most recent call last):", null)).toEqual({
      log_data: { content: "Traceback (most recent call last):" },
    });
    expect(requestFor("[1, 2]", null)).toEqual({ log_data: { content: "[1, 2]" } });
  });
});
