// The playground in Debian's firefox-esr, driven by puppeteer-core over WebDriver BiDi (which
// Firefox speaks itself, so no geckodriver), against the routers that test_firefox.py starts:
// CHORUS_ROUTER_URL (espeak-ng and Piper) and CHORUS_SECURE_ROUTER_URL (API keys required).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import puppeteer from "puppeteer-core";

const WAIT_MS = 60_000;
const router = process.env.CHORUS_ROUTER_URL;
const secureRouter = process.env.CHORUS_SECURE_ROUTER_URL;
let browser;

before(async () => {
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.CHORUS_FIREFOX || "/usr/bin/firefox-esr",
    headless: true,
    // Audio may start without a user's gesture, as chromium's --autoplay-policy allows there.
    extraPrefsFirefox: { "media.autoplay.default": 0 },
  });
});

after(() => browser?.close());

/** The playground in a fresh browser context (its own session storage), with the page's
 * console errors and uncaught exceptions collected. */
async function open(base) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/`);
  return { page, errors, close: () => context.close() };
}

const catalogLoaded = (page) => page.waitForSelector("#speak-voice option");

test("the page loads its catalog with no console error", async () => {
  const { page, errors, close } = await open(router);
  await catalogLoaded(page);
  await page.waitForSelector("#speak-pieces li");
  const providers = await page.$$eval("#speak-provider option", (options) => options.map((o) => o.value));
  assert.ok(providers.includes("espeak") && providers.includes("piper"), providers.join());
  assert.deepEqual(errors, []);
  await close();
});

test("a sentence streams into the audio graph", async () => {
  const { page, errors, close } = await open(router);
  await catalogLoaded(page);
  await page.select("#speak-provider", "piper");
  await page.click("#speak-go");
  await page.waitForFunction(() => window.chorusPlayground.scheduledSeconds >= 1.0);
  await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById("speak-first-audio").textContent));
  await page.waitForFunction(() => document.getElementById("speak-served-by").textContent === "piper");
  assert.deepEqual(errors, []);
  await close();
});

test("two providers are compared", async () => {
  const { page, close } = await open(router);
  await catalogLoaded(page);
  await page.click("#tab-compare");
  await page.click("#compare-go");
  const rows = "#compare-results tbody tr";
  await page.waitForFunction(
    (selector) => [...document.querySelectorAll(selector)].map((r) => r.dataset.state).join() === "done,done",
    {},
    rows,
  );
  const served = await page.$$eval(rows, (all) => all.map((r) => r.cells[4].textContent).sort());
  assert.deepEqual(served, ["espeak", "piper"]);
  await close();
});

test("without a key the page shows the 401 message", async () => {
  const { page, close } = await open(secureRouter);
  const message = await page.waitForSelector("#message:not([hidden])");
  const text = await message.evaluate((box) => box.textContent);
  assert.match(text, /^401: You didn't provide an API key\./);
  await close();
});
