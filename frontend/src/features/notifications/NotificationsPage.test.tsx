import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, renderPage, stubApi } from "../../test/render";
import { NotificationsPage } from "./NotificationsPage";

const rule = {
  id: "9b0e0000-0000-4000-8000-000000000001",
  name: "on-call",
  trigger: "threshold",
  threshold_count: 20,
  threshold_minutes: 5,
  channel: "email",
  config: { host: "smtp.example.com", port: 587, starttls: true, from_address: "a@example.com", to: ["b@example.com"] },
  secret_hint: "logdawg@smtp.example.com (password set)",
  storm_limit: 10,
  storm_window_s: 600,
  enabled: true,
  created_at: new Date().toISOString(),
};

afterEach(() => vi.unstubAllGlobals());

describe("NotificationsPage", () => {
  // Typing a whole form takes a while on a busy machine.
  it("sends a new e-mail rule with its SMTP settings and a write-only password", { timeout: 30_000 }, async () => {
    const bodies: unknown[] = [];
    stubApi(async (url, request) => {
      if (url.pathname === "/api/v1/notification-rules" && request.method === "POST") {
        bodies.push(await request.json());
        return json(rule, 201);
      }
      if (url.pathname === "/api/v1/notification-rules") return json(bodies.length ? [rule] : []);
      return json({ detail: "not here" }, 404);
    });
    renderPage(<NotificationsPage />, { path: "/notifications" });
    await screen.findByText("No notification rules yet.");
    await userEvent.type(screen.getByLabelText("Name"), "on-call");
    await userEvent.selectOptions(screen.getByLabelText("When"), "threshold");
    await userEvent.clear(screen.getByLabelText("Occurrences (N)"));
    await userEvent.type(screen.getByLabelText("Occurrences (N)"), "20");
    await userEvent.selectOptions(screen.getByLabelText("Channel"), "email");
    await userEvent.type(screen.getByLabelText("SMTP host"), "smtp.example.com");
    await userEvent.type(screen.getByLabelText("From"), "a@example.com");
    await userEvent.type(screen.getByLabelText("To (comma-separated)"), "b@example.com, c@example.com");
    await userEvent.type(screen.getByLabelText("SMTP password (empty: no sign-in)"), "s3cret");
    await userEvent.click(screen.getByRole("button", { name: "Add rule" }));
    expect(await screen.findByText("logdawg@smtp.example.com (password set)")).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "20 occurrences in 5 min" })).toBeInTheDocument();
    expect(bodies).toEqual([
      {
        name: "on-call",
        trigger: "threshold",
        channel: "email",
        secret: "s3cret",
        threshold_count: 20,
        threshold_minutes: 5,
        config: {
          host: "smtp.example.com",
          port: 587,
          starttls: true,
          username: null,
          from_address: "a@example.com",
          to: ["b@example.com", "c@example.com"],
        },
      },
    ]);
    expect(screen.queryByText("s3cret")).not.toBeInTheDocument();
  });

  it("lets a member read the rules and the delivery log but not change them", async () => {
    stubApi((url) => {
      if (url.pathname === "/api/v1/notification-rules") return json([rule]);
      if (url.pathname.endsWith("/deliveries"))
        return json([
          {
            id: "d1", kind: "message", event: "threshold", title: "KeyError: 'sku'", report_id: null,
            status: "retrying", attempts: 2, response_code: 503, next_retry_at: new Date().toISOString(),
            error: "the receiver answered 503", digest_id: null, created_at: new Date().toISOString(),
            delivered_at: null,
          },
        ]);
      return json({ detail: "not here" }, 404);
    });
    renderPage(<NotificationsPage />, { path: "/notifications", role: "member" });
    await userEvent.click(await screen.findByRole("button", { name: "Delivery log" }));
    expect(await screen.findByRole("cell", { name: "KeyError: 'sku'" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "503" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "retrying" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add rule" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
  });
});
