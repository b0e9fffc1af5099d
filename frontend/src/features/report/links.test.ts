import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { fileLink } from "./links";

const base: Schemas["RepositoryOut"] = {
  id: "r",
  provider: "github",
  owner: "acme",
  project: null,
  name: "shop",
  default_branch: "main",
  base_url: null,
  has_credential: true,
  created_at: "2026-01-01T00:00:00Z",
};

describe("fileLink", () => {
  it("points at the file at the commit and line on GitHub and GitHub Enterprise", () => {
    expect(fileLink(base, "abc", "src/shader.c", 45)).toBe("https://github.com/acme/shop/blob/abc/src/shader.c#L45");
    expect(fileLink({ ...base, base_url: "https://ghe.example.com/api/v3" }, "abc", "a b.py", null)).toBe(
      "https://ghe.example.com/acme/shop/blob/abc/a%20b.py",
    );
  });

  it("uses Azure DevOps' path, version and line parameters", () => {
    const link = fileLink({ ...base, provider: "azure_devops", owner: "contoso", project: "Shop" }, "abc", "src/x.cs", 7);
    const url = new URL(link ?? "");
    expect(url.origin + url.pathname).toBe("https://dev.azure.com/contoso/Shop/_git/shop");
    expect(url.searchParams.get("path")).toBe("/src/x.cs");
    expect(url.searchParams.get("version")).toBe("GCabc");
    expect(url.searchParams.get("line")).toBe("7");
  });

  it("has no link for a local checkout", () => {
    expect(fileLink({ ...base, provider: "local" }, "abc", "x.c", 1)).toBeNull();
  });
});
