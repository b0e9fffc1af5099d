import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderPage } from "../test/render";
import { allows } from "../auth/roles";
import { Layout } from "./Layout";

describe("what a role is offered", () => {
  it("offers a viewer reading only", async () => {
    renderPage(<Layout />, { role: "viewer" });
    expect(await screen.findByRole("link", { name: "Reports" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Submit a log" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "API keys" })).not.toBeInTheDocument();
  });

  it("offers an admin submitting and API keys", async () => {
    renderPage(<Layout />, { role: "admin" });
    expect(await screen.findByRole("link", { name: "Submit a log" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "API keys" })).toBeInTheDocument();
  });

  it("ranks the roles as the API does", () => {
    expect(allows("member", "deleteReport")).toBe(true);
    expect(allows("member", "manageRepositories")).toBe(false);
    expect(allows("admin", "grantOwner")).toBe(false);
    expect(allows("owner", "grantOwner")).toBe(true);
    expect(allows(null, "submit")).toBe(false);
  });
});
