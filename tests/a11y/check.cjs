// Checks HTML files with axe-core in a real, headless Chromium, and prints the violations
// of each as JSON. Usage: node check.cjs <chromium> <file.html>...
// Its packages (axe-core, puppeteer-core) are installed by .ci/run; NODE_PATH points at them.
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

(async () => {
  const [chromium, ...files] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const results = [];
  for (const file of files) {
    const page = await browser.newPage();
    await page.goto("file://" + path.resolve(file), { waitUntil: "load" });
    await page.addScriptTag({ content: axeSource });
    const r = await page.evaluate(() =>
      axe.run(document, {
        runOnly: {
          type: "tag",
          values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
        },
      }),
    );
    results.push({
      file,
      passes: r.passes.length,
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")),
      })),
    });
    await page.close();
  }
  await browser.close();
  console.log(JSON.stringify(results));
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
