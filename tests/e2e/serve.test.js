// Browser test of `sliders serve` (issue #10): starts the server on an ephemeral port, opens the
// page in headless Debian chromium through playwright-core (no browser download), uploads a
// photo, drags a slider of each model with the mouse, checks that the edited image's pixels
// changed each time, downloads the edited image, and saves a screenshot.
//
//   node serve.test.js --bin target/debug/sliders --model data/runs/smoke/fader-smiling \
//       [--model …] [--image face.jpg] [--out tests/e2e/out] [--chromium /usr/bin/chromium]
//
// Without --image, the photo uploaded is the server's first test face (fetched from the API and
// sent through the page's file input, as a user would).

"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

function parseArgs(argv) {
  const a = { models: [], out: path.join(__dirname, "out"), chromium: "/usr/bin/chromium" };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case "--bin": a.bin = next(); break;
      case "--model": a.models.push(next()); break;
      case "--image": a.image = next(); break;
      case "--out": a.out = next(); break;
      case "--chromium": a.chromium = next(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.bin || a.models.length === 0) {
    throw new Error("usage: node serve.test.js --bin SLIDERS --model RUN [--model RUN…] [--image FILE] [--out DIR]");
  }
  return a;
}

function log(msg) { console.log(`e2e: ${msg}`); }

/// Starts `sliders serve --port 0` and resolves with its URL (read from its stdout).
function startServer(bin, models) {
  const args = ["serve", "--port", "0"];
  for (const m of models) args.push("--model", m);
  log(`${bin} ${args.join(" ")}`);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr.on("data", (d) => process.stderr.write(`[server] ${d}`));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("the server printed no URL within 120 s")), 120000);
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the server exited (${code}) before listening`)); });
  });
}

/// The edited image's RGBA pixels, read through a canvas.
async function editedPixels(page) {
  return page.evaluate(() => {
    const img = document.getElementById("edited");
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    return Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
  });
}

function changedPixels(a, b) {
  if (a.length !== b.length) return Infinity;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  }
  return n;
}

/// Drags the slider from its current position to `fraction` of its width with the mouse.
async function drag(page, selector, fraction) {
  const el = page.locator(selector);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  const value = parseFloat(await el.inputValue());
  const min = parseFloat(await el.getAttribute("min"));
  const max = parseFloat(await el.getAttribute("max"));
  const y = box.y + box.height / 2;
  const x0 = box.x + 8 + (box.width - 16) * (value - min) / (max - min);
  const x1 = box.x + 8 + (box.width - 16) * fraction;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(x0 + (x1 - x0) * k / 10, y);
  await page.mouse.up();
  return parseFloat(await el.inputValue());
}

async function waitForRender(page, after) {
  await page.waitForFunction((n) => window.sliders.renders > n, after, { timeout: 30000 });
  // Let a debounced request that is still in flight land too.
  await page.waitForTimeout(300);
  await page.waitForFunction(() => !document.getElementById("status").textContent.startsWith("Encoding"));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const { child, url } = await startServer(args.bin, args.models);
  log(`server at ${url}`);
  if (!/^http:\/\/127\.0\.0\.1:\d+\/$/.test(url)) throw new Error(`the server did not bind 127.0.0.1: ${url}`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "sliders-e2e-profile-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = context.pages()[0] || await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(url);
    const models = await (await page.request.get(url + "api/models")).json();
    await page.waitForSelector("input[type=range]");
    log(`models: ${models.models.map((m) => `${m.name} [${m.attributes.join(", ")}]`).join("; ")}`);

    // The photo: --image, or the first test face, uploaded through the page's file input.
    let photo;
    if (args.image) {
      const ext = path.extname(args.image).toLowerCase();
      photo = { name: path.basename(args.image), mimeType: ext === ".png" ? "image/png" : "image/jpeg",
                buffer: fs.readFileSync(args.image) };
    } else {
      const faces = await (await page.request.get(url + "api/faces")).json();
      if (!faces.faces.length) throw new Error(`no test face to upload (${faces.source}); pass --image`);
      const resp = await page.request.get(url + "api/faces/0");
      photo = { name: faces.faces[0], mimeType: resp.headers()["content-type"], buffer: await resp.body() };
    }
    log(`uploading ${photo.name} (${photo.buffer.length} bytes)`);
    await page.setInputFiles("[data-testid=upload]", photo);
    await waitForRender(page, 0);
    const size = await page.evaluate(() => [document.getElementById("original").naturalWidth,
                                            document.getElementById("edited").naturalWidth]);
    if (size[0] !== models.image_size || size[1] !== models.image_size) {
      throw new Error(`original/edited are ${size} px, expected ${models.image_size}`);
    }
    let before = await editedPixels(page);

    // Drag one slider of each model, checking that the edited image changes every time.
    for (const [mi, m] of models.models.entries()) {
      const selector = `#slider-${mi}-0`;
      const renders = await page.evaluate(() => window.sliders.renders);
      const value = await drag(page, selector, 0.85);
      await waitForRender(page, renders);
      const after = await editedPixels(page);
      const changed = changedPixels(before, after);
      const status = await page.locator("[data-testid=status]").textContent();
      log(`model ${mi} (${m.name}): ${m.attributes[0]} dragged to ${value}: ${changed} of ${after.length / 4} pixels changed; ${status}`);
      if (!(changed > 0)) throw new Error(`moving ${m.attributes[0]} of ${m.name} did not change the edited image`);
      if (!(value > 1)) throw new Error(`the slider did not reach beyond 1 (${value})`);
      before = after;
    }
    const caption = await page.locator("#edited-caption").textContent();
    log(`caption: ${caption}`);
    const href = await page.locator("[data-testid=download]").getAttribute("href");
    if (!href || !href.startsWith("/api/sessions/")) throw new Error(`the download button has no photo (${href})`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=download]")]);
    const saved = path.join(args.out, "edited.png");
    await download.saveAs(saved);
    const bytes = fs.readFileSync(saved);
    if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) throw new Error("the downloaded file is not a PNG");
    // The download is the whole photo with the edit pasted back, at the photo's resolution.
    const dims = (b) => [b.readUInt32BE(16), b.readUInt32BE(20)];
    const got = dims(bytes);
    if (photo.buffer.readUInt32BE(0) === 0x89504e47) {
      const want = dims(photo.buffer);
      if (got[0] !== want[0] || got[1] !== want[1]) throw new Error(`the download is ${got}, the photo ${want}`);
    }
    log(`download: ${download.suggestedFilename()} (${bytes.length} bytes, PNG, ${got[0]}x${got[1]}) saved as ${saved}`);
    const shot = path.join(args.out, "serve.png");
    await page.screenshot({ path: shot, fullPage: true });
    log(`screenshot: ${shot}`);
    if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
    log("passed");
  } finally {
    if (context) await context.close();
    child.kill("SIGINT");
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`e2e: FAILED: ${e.stack || e}`);
  process.exit(1);
});
