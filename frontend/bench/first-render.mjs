// Time to first render of the Reports page: from navigation start until the first report row
// is on screen, in Debian's chromium (playwright-core). Prints one JSON line of figures.
// Usage: node bench/first-render.mjs http://127.0.0.1:PORT [runs]
import { chromium } from "playwright-core";

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.LOGDAWG_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
let rows = 0;
try {
  for (let i = 0; i < runs; i++) {
    // A fresh context each time: nothing cached, as a first visit.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/reports`);
    await page.locator("tbody tr").first().waitFor({ timeout: 30_000 });
    times.push(await page.evaluate(() => performance.now()));
    rows = await page.locator("tbody tr").count();
    await context.close();
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({ runs, rows, median_ms: Math.round(median), min_ms: Math.round(times[0]), max_ms: Math.round(times.at(-1)) }));
