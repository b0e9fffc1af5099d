import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "./client";
import { loadRuntimeConfig, resetRuntimeConfig, RuntimeConfigError } from "./runtimeConfig";

const own = window.location.origin;

/** A deployment's /config.json (the outside system here is the static host). */
function host(answer: Response) {
  return vi.fn((request: Request) => {
    expect(new URL(request.url).pathname).toBe("/config.json");
    return Promise.resolve(answer);
  });
}

/** Records what the API client sends, after the runtime configuration has aimed it. */
function recordApi() {
  const sent: Request[] = [];
  vi.stubGlobal("fetch", (request: Request) => {
    sent.push(request);
    return Promise.resolve(Response.json({ id: "k1" }));
  });
  return sent;
}

afterEach(() => {
  resetRuntimeConfig();
  vi.unstubAllGlobals();
});

describe("the API's location, read at run time", () => {
  it("sends every call to the API named by the deployment's /config.json, body and headers intact", async () => {
    await loadRuntimeConfig(host(Response.json({ apiBaseUrl: "https://app-logdawg-dev-api.azurewebsites.net/" })));
    const sent = recordApi();
    await api.GET("/api/v1/auth/config");
    await api.POST("/api/v1/api-keys", { body: { name: "ci", scopes: ["ingest"] } } as never);
    expect(sent.map((r) => r.url)).toEqual([
      "https://app-logdawg-dev-api.azurewebsites.net/api/v1/auth/config",
      "https://app-logdawg-dev-api.azurewebsites.net/api/v1/api-keys",
    ]);
    expect(sent[1]?.method).toBe("POST");
    expect(sent[1]?.headers.get("Content-Type")).toBe("application/json");
    expect(JSON.parse((await sent[1]?.text()) ?? "null")).toEqual({ name: "ci", scopes: ["ingest"] });
  });

  it("stays on the page's own origin without a /config.json (the API serving the app)", async () => {
    await loadRuntimeConfig(host(new Response("Nothing at /config.json.", { status: 404 })));
    const sent = recordApi();
    await api.GET("/api/v1/auth/config");
    expect(sent[0]?.url).toBe(`${own}/api/v1/auth/config`);
  });

  it("stays on the page's own origin when the deployment says so", async () => {
    await loadRuntimeConfig(host(Response.json({ apiBaseUrl: "" })));
    const sent = recordApi();
    await api.GET("/api/v1/auth/config");
    expect(sent[0]?.url).toBe(`${own}/api/v1/auth/config`);
  });

  it("refuses a configuration it cannot use, saying what is wrong", async () => {
    await expect(loadRuntimeConfig(host(Response.json({ apiBaseUrl: "ftp://x" })))).rejects.toThrow(
      /apiBaseUrl "ftp:\/\/x" is not an http\(s\) URL/,
    );
    await expect(loadRuntimeConfig(host(new Response("<!doctype html>", { status: 200 })))).rejects.toBeInstanceOf(
      RuntimeConfigError,
    );
    await expect(loadRuntimeConfig(host(new Response("", { status: 500 })))).rejects.toThrow(/answered 500/);
  });
});
