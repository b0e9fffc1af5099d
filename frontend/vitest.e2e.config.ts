import { defineConfig } from "vitest/config";

// The browser tests (e2e/): node environment, one file at a time, generous timeouts (they
// start PostgreSQL, the API, a worker and chromium).
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 90_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
