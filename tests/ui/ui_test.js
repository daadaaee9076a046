/*
 * ui_test.js - crier's web UI (src/ui/, ui/) in a real headless Chromium
 *
 * Usage: node ui_test.js CRIER WORKDIR. Debian's chromium (/usr/bin/chromium, or
 * $CRIER_CHROMIUM) driven by playwright-core, installed here with `npm ci` from
 * package-lock.json when node_modules is missing (under a lock, so two builds do not race).
 * Exits 77 (skipped) when there is no Chromium.
 *
 * The database is made with the CLI as users make it: profiles, templates, a pickup account,
 * the seed-001 workflow started and run by the engine, a delivery prepared and waiting for
 * confirmation, an operator and a viewer. `crier serve --no-engine` serves the UI; the test
 * runs the engine itself. In the browser: the operator logs in, opens the seed-001 run and
 * finds on each transition the count the API gives, confirms the ready delivery through the
 * dialog (which shows the target count), the engine sends, a reload shows the KPIs moved;
 * opens and clicks made on the tracking links of some of the pickup folder's messages are
 * charted (the bars are the timeline API's buckets and add up to the KPIs);
 * the profile search shows a filter error with its position and the live count; the viewer
 * sees no action button; the operator builds the seed-001 workflow on the canvas editor (a
 * misspelt template first, shown on its box), saves it, compares the stored definition with
 * the example, starts it and follows the run. Screenshots go to WORKDIR/screenshots. No sleeps: every wait is
 * for a selector or an answer (the KPIs are asked again every 100 ms until they show the hits).
 */
"use strict";

const { execFileSync, spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const HERE = __dirname;
const EXAMPLES = path.join(HERE, "..", "..", "examples");
const CHROMIUM = process.env.CRIER_CHROMIUM || "/usr/bin/chromium";
const PASSWORD = "a long test passphrase";

const [CRIER, WORKDIR] = process.argv.slice(2);
if (!CRIER || !WORKDIR) {
  console.error("usage: node ui_test.js CRIER WORKDIR");
  process.exit(2);
}
const RUN = path.join(WORKDIR, "run");
const SHOTS = path.join(WORKDIR, "screenshots");
const DB = path.join(RUN, "crier.db");

function expect(cond, what) {
  if (!cond) throw new Error("expectation failed: " + (typeof what === "string" ? what : JSON.stringify(what)));
}

function crier(...args) {
  const opts = { cwd: RUN, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, P: PASSWORD } };
  delete opts.env.CRIER_DB;
  try {
    return execFileSync(CRIER, ["--db", DB, ...args], opts);
  } catch (e) {
    throw new Error(`crier ${args.join(" ")}: exit ${e.status}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
  }
}

const crierJson = (...args) => JSON.parse(crier(...args));

/* npm ci once: the lock keeps two builds' test runs from racing on node_modules */
function playwright() {
  const mod = path.join(HERE, "node_modules", "playwright-core");
  if (!fs.existsSync(mod)) {
    execFileSync("flock", ["/tmp/crier-ui-npm.lock", "sh", "-c",
      "test -d node_modules/playwright-core || npm ci --silent --no-audit --no-fund"],
      { cwd: HERE, stdio: "inherit", timeout: 240000 });
  }
  return require(mod);
}

function setup() {
  fs.rmSync(RUN, { recursive: true, force: true });
  fs.mkdirSync(RUN, { recursive: true });
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  crier("init");
  crier("clock", "set", "2026-12-01T09:00:00Z");
  crier("demo", "generate", "profiles", "--count", "300", "--out", "p.csv");
  crier("import", "profiles", "p.csv", "--key", "external_id", "--json");
  // as tests/integration/cli_workflow.py's setup: templates, a pickup account, an SMS sink
  for (const d of ["pickup", "sms-sink"]) fs.mkdirSync(path.join(RUN, d));
  crier("account", "add", "file", "sms", "--dir", path.join(RUN, "sms-sink"));
  crier("account", "add", "pickup", "mail", "--dir", path.join(RUN, "pickup"));
  for (const name of ["offer", "offer-reminder"]) {
    fs.writeFileSync(path.join(RUN, name + ".json"), JSON.stringify({
      from: "Shop <shop@example.com>", subject: "Hello {{ profile.first_name }}",
      html: '<p><a href="https://shop.example/offer">offer</a></p>' }));
    crier("template", "add", "email", name, name + ".json");
  }
  fs.writeFileSync(path.join(RUN, "sms.json"), JSON.stringify({ text: "Hi {{ profile.first_name }}" }));
  crier("template", "add", "sms", "offer-sms", "sms.json");
  const run = crierJson("workflow", "start", path.join(EXAMPLES, "seed-001-cross-channel.json"), "--json").run;
  crierJson("engine", "run", "--until-idle", "--json");
  // three days later the wait ends and the split shares the population out (nobody opened)
  crier("clock", "advance", "3d");
  crierJson("engine", "run", "--until-idle", "--json");
  // a delivery waiting for a person's confirmation
  const delivery = crierJson("delivery", "create", "--template", "offer", "--account", "mail",
    "--filter", "tier = 'gold' and email is not null", "--json").id;
  const ready = crierJson("delivery", "prepare", String(delivery), "--json");
  expect(ready.status === "ready" && ready.kpis.targeted > 0, ready);
  crier("user", "add", "olga", "--role", "operator", "--password-env", "P");
  crier("user", "add", "victor", "--role", "viewer", "--password-env", "P");
  return { run, delivery, targeted: ready.kpis.targeted };
}

/* crier serve on a port the system picks; resolves once it listens */
function serve() {
  return new Promise((resolve, reject) => {
    const p = spawn(CRIER, ["--db", DB, "serve", "--listen", "127.0.0.1:0", "--no-engine"],
      { cwd: RUN, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => { err += d; });
    p.on("exit", (code) => reject(new Error(`crier serve exited (${code}): ${err}`)));
    readline.createInterface({ input: p.stdout }).once("line", (line) => {
      const m = line.match(/^listening on (http:\/\/\S+)$/);
      if (!m) return reject(new Error(`crier serve: ${line} ${err}`));
      p.removeAllListeners("exit");
      resolve({ proc: p, base: m[1] });
    });
  });
}

const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const num = (text) => Number(String(text).replace(/[^0-9.-]/g, ""));

async function newPage(browser, problems) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    // 401 from /me before login is expected; a CSP violation or a script error is not
    if (m.type() === "error" && !/status of 401/.test(m.text()) && !/status of 400/.test(m.text()))
      problems.push("console: " + m.text());
  });
  return { context, page };
}

async function login(page, base, name) {
  const r = await page.goto(base + "/");
  await page.fill("#login-name", name);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.waitForSelector("#who");
  return r;
}

async function apiGet(page, base, p) {
  const r = await page.request.get(base + "/api/v1" + p);
  expect(r.ok(), `GET ${p}: ${r.status()}`);
  return r.json();
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("the app is served with its security headers", async ({ page, base, response }) => {
  const h = response.headers();
  expect(response.status() === 200 && /text\/html/.test(h["content-type"]), h);
  const csp = h["content-security-policy"] || "";
  expect(csp.includes("default-src 'self'") && csp.includes("frame-ancestors 'none'") &&
    !csp.includes("unsafe-inline"), csp);
  expect(h["x-content-type-options"] === "nosniff" && h.etag, h);
  const js = await page.request.get(base + "/ui/app.js");
  expect(/javascript/.test(js.headers()["content-type"]) && js.headers().etag, js.headers());
  const again = await page.request.get(base + "/ui/app.js", { headers: { "If-None-Match": js.headers().etag } });
  expect(again.status() === 304, `revalidation: ${again.status()}`);
  expect((await page.request.get(base + "/ui/nope.js")).status() === 404, "unknown asset");
});

test("marketing activities list campaigns, workflows and deliveries", async ({ page, ids }) => {
  await page.waitForSelector("#workflows tbody tr[data-id]");
  expect(await page.locator("#campaigns tbody tr[data-id]").count() === 1, "one campaign");
  expect(await page.locator(`#deliveries tr[data-id="${ids.delivery}"]`).count() === 1, "the ready delivery");
  await shot(page, "1-marketing-activities");
});

test("the seed-001 run shows the API's count on each transition", async ({ page, base, ids }) => {
  await page.click("#workflows a.last-run");
  await page.waitForSelector("#run-graph g.edge");
  const run = await apiGet(page, base, `/runs/${ids.run}`);
  expect(run.workflow === "gold-offer" && run.transitions.length === 8, run);
  let carried = 0;
  for (const [k, t] of run.transitions.entries()) {
    const edge = page.locator(`#run-graph g.edge[data-index="${k}"]`);
    expect(await edge.getAttribute("data-from") === t.from && await edge.getAttribute("data-to") === t.to, t);
    const labels = await edge.locator("text.count").allTextContents();
    if (t.count === null) {
      expect(labels.length === 0, `${t.from} -> ${t.to}: nothing carried, yet ${labels}`);
    } else {
      expect(labels.length === 1 && num(labels[0]) === t.count, `${t.from} -> ${t.to}: ${labels} vs ${t.count}`);
      if (t.count > 0) carried++;
    }
  }
  expect(carried >= 4, "the query's, the email's, the wait's and the split's populations are shown");
  for (const a of run.activities)
    expect(await page.locator(`#run-graph g.node[data-activity="${a.id}"]`).getAttribute("data-status") === a.status, a);
  // boxes left to right in topological order
  const x = async (id) => (await page.locator(`#run-graph g.node[data-activity="${id}"] rect`).boundingBox()).x;
  expect(await x("start") < await x("gold") && await x("gold") < await x("offer") &&
    await x("wait3d") < await x("behaviour") && await x("behaviour") < await x("engaged") &&
    await x("engaged") < await x("end"), "left to right");
  expect(await page.locator("button[data-action=start]").count() === 1, "an operator may start a run");
  expect(await page.locator("button[data-action=pause]").count() === (run.status === "running" ? 1 : 0),
    `pause only while running (${run.status})`);
  await page.waitForSelector("#run-delivery-list");
  await shot(page, "2-seed-001-run");
});

test("a ready delivery is confirmed through the dialog, then its KPIs move", async ({ page, base, ids, crierRun }) => {
  await page.goto(base + "/#/");
  await page.click(`#deliveries a[href="#/deliveries/${ids.delivery}"]`);
  await page.waitForSelector("#delivery-status [data-status=ready]");
  await page.waitForSelector("#log-table");
  expect(num(await page.textContent('.tile[data-kpi=targeted] .value')) === ids.targeted, "targeted tile");
  expect(num(await page.textContent('.tile[data-kpi=sent] .value')) === 0, "nothing sent yet");
  await page.waitForSelector("#exclusions");
  await shot(page, "3-delivery-ready");
  await page.click("button[data-action=confirm]");
  await page.waitForSelector("#confirm-dialog[open] #confirm-target");
  expect(num(await page.textContent("#confirm-target")) === ids.targeted, "the dialog shows the target count");
  await shot(page, "4-confirm-dialog");
  await page.click("#confirm-ok");
  await page.waitForSelector("#delivery-status [data-status=sending]");
  const d = await apiGet(page, base, `/deliveries/${ids.delivery}`);
  expect(d.status === "sending" && d.confirmed_by === "olga", d);
  crierRun("engine", "run", "--until-idle");
  await page.reload();
  await page.waitForSelector("#delivery-status [data-status=sent]");
  const sent = num(await page.textContent(".tile[data-kpi=sent] .value"));
  const kpis = await apiGet(page, base, `/deliveries/${ids.delivery}/kpis`);
  expect(sent > 0 && sent === kpis.sent && sent === ids.targeted, `sent tile ${sent}, API ${kpis.sent}`);
  expect(await page.locator("button[data-action=confirm]").count() === 0, "no confirm once sent");
  // logs: the status filter and the pages
  await page.selectOption("#log-status", "sent");
  await page.waitForSelector("#log-table tbody tr[data-id]");
  const statuses = await page.locator("#log-table tbody td:nth-child(3)").allTextContents();
  expect(statuses.length === Math.min(20, sent) && statuses.every((s) => s === "sent"), statuses);
  if (sent > 20) {
    await page.click("#logs-next");
    await page.waitForFunction(() => /^rows 21/.test(document.getElementById("logs-page").textContent));
    const second = await page.locator("#log-table tbody tr[data-id] td:first-child").allTextContents();
    const logs = await apiGet(page, base, `/deliveries/${ids.delivery}/logs?status=sent&offset=20&limit=20`);
    expect(second.map(Number).join() === logs.map((l) => l.profile).join(), "the second page is the API's");
  }
  await shot(page, "5-delivery-sent");
});

/* An .eml's parts, decoded (quoted-printable, base64): enough MIME to find the tracking links. */
function mimeText(raw) {
  const cut = raw.search(/\r?\n\r?\n/);
  if (cut < 0) return raw;
  const head = raw.slice(0, cut).replace(/\r?\n[ \t]+/g, " ");
  const body = raw.slice(cut).replace(/^\r?\n\r?\n/, "");
  const boundary = head.match(/boundary="?([^";\r\n]+)"?/i);
  if (/^content-type:\s*multipart\//im.test(head) && boundary)
    return body.split("--" + boundary[1]).slice(1).map(mimeText).join("\n");
  const cte = ((head.match(/^content-transfer-encoding:\s*(\S+)/im) || [])[1] || "").toLowerCase();
  if (cte === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (cte === "quoted-printable")
    return Buffer.from(body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
  return body;
}

/* as scripts/engage.py: the open pixel and the click links of a message's HTML */
function trackingLinks(file) {
  const urls = [...mimeText(fs.readFileSync(file, "latin1")).matchAll(/(?:href|src)="(https?:\/\/[^"]+)"/g)].map((m) => m[1]);
  return { pixel: urls.filter((u) => u.includes("/o/")), links: urls.filter((u) => u.includes("/c/")) };
}

const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

test("opens and clicks over time: the chart plots the timeline API's and the KPIs' totals", async ({ page, base, ids }) => {
  await page.goto(base + `/#/deliveries/${ids.delivery}`);
  await page.waitForSelector("#delivery-status [data-status=sent]");
  await page.waitForSelector("#timeline[data-state=empty] #timeline-empty");
  // real hits on the tracking links of some of the messages the pickup account wrote
  const files = fs.readdirSync(path.join(RUN, "pickup")).filter((f) => f.startsWith(`${ids.delivery}-`) && f.endsWith(".eml")).sort();
  expect(files.length === ids.targeted, `${files.length} messages in the pickup folder`);
  let opens = 0, clicks = 0;
  for (const [i, f] of files.entries()) {
    const { pixel, links } = trackingLinks(path.join(RUN, "pickup", f));
    expect(pixel.length === 1 && links.length >= 1 && pixel[0].startsWith(base + "/o/"), `${f}: ${pixel} ${links}`);
    if (i % 3 === 2) continue; // a third never opens
    for (let k = 0; k < (i % 4 === 0 ? 2 : 1); k++) { // some read it twice
      const r = await fetch(pixel[0], { headers: { "User-Agent": BROWSER_UA } });
      expect(r.status === 200, `open ${r.status}`);
      await r.arrayBuffer();
      opens++;
    }
    if (i % 2 === 0) {
      const r = await fetch(links[0], { headers: { "User-Agent": BROWSER_UA }, redirect: "manual" });
      expect(r.status === 302, `click ${r.status}`);
      clicks++;
    }
  }
  expect(opens > 0 && clicks > 0, `${opens} opens, ${clicks} clicks made`);
  // the server writes its hits every flush interval: wait for the KPIs to show them
  for (const deadline = Date.now() + 20000; ; await new Promise((r) => setTimeout(r, 100))) {
    const k = await apiGet(page, base, `/deliveries/${ids.delivery}/kpis`);
    if (k.clicks === clicks && k.opens >= opens) break;
    expect(Date.now() < deadline, `the hits were not written: KPIs ${k.opens} opens, ${k.clicks} clicks`);
  }
  await page.click("#refresh");
  await page.waitForSelector("#timeline[data-state=chart] #timeline-chart g.bucket rect.bar.opens", { state: "attached" });
  const kpis = await apiGet(page, base, `/deliveries/${ids.delivery}/kpis`);
  const chart = page.locator("#timeline-chart");
  const bucket = await chart.getAttribute("data-bucket");
  const timeline = await apiGet(page, base, `/deliveries/${ids.delivery}/timeline?bucket=${bucket}`);
  const sum = (f) => timeline.items.reduce((a, x) => a + x[f], 0);
  const plotted = await page.$$eval("#timeline-chart g.bucket", (gs) => gs.map((g) => ({
    at: g.getAttribute("data-at"),
    opens: Number(g.querySelector("rect.opens").getAttribute("data-value")),
    clicks: Number(g.querySelector("rect.clicks").getAttribute("data-value")),
  })));
  expect(bucket === "hour" && timeline.items.length >= 1, `bucket ${bucket}, ${timeline.items.length} items`);
  expect(JSON.stringify(plotted) === JSON.stringify(timeline.items.map((x) => ({ at: x.at, opens: x.opens, clicks: x.clicks }))),
    `plotted ${JSON.stringify(plotted)} vs API ${JSON.stringify(timeline.items)}`);
  const pOpens = plotted.reduce((a, x) => a + x.opens, 0), pClicks = plotted.reduce((a, x) => a + x.clicks, 0);
  expect(pOpens === sum("opens") && pOpens === kpis.opens && pOpens >= opens, `opens: chart ${pOpens}, timeline ${sum("opens")}, KPIs ${kpis.opens}`);
  expect(pClicks === sum("clicks") && pClicks === kpis.clicks && pClicks === clicks, `clicks: chart ${pClicks}, timeline ${sum("clicks")}, KPIs ${kpis.clicks}`);
  expect(num(await chart.getAttribute("data-opens")) === kpis.opens && num(await chart.getAttribute("data-clicks")) === kpis.clicks,
    "the chart's totals");
  // axes, legend, a title on each bar, and the table fallback with the same totals
  expect(await page.locator("#timeline-chart line.axis").count() === 2, "two axes");
  expect(await page.locator("#timeline-chart text.xlabel").count() >= 1 && await page.locator("#timeline-chart text.ylabel").count() >= 2, "axis labels");
  expect(/opens/.test(await page.textContent("#timeline-legend")) && /clicks/.test(await page.textContent("#timeline-legend")), "legend");
  expect(/opens/.test(await page.locator("#timeline-chart rect.bar.opens title").first().textContent()), "a bar's title");
  const total = await page.locator('#timeline-table tr[data-id="total"] td').allTextContents();
  expect(num(total[1]) === kpis.opens && num(total[3]) === kpis.clicks, `table total ${total}`);
  expect(num(await page.textContent(".tile[data-kpi=clicks] .value")) === kpis.unique_clicks, "the clicks tile");
  await page.click("#timeline-table-summary");
  await shot(page, "13-dashboard-chart");
  // per day: the same totals in one bucket per day
  await page.selectOption("#timeline-bucket", "day");
  await page.waitForSelector("#timeline[data-bucket=day] #timeline-chart[data-bucket=day]", { state: "attached" });
  const days = await apiGet(page, base, `/deliveries/${ids.delivery}/timeline?bucket=day`);
  expect(await page.locator("#timeline-chart g.bucket").count() === days.items.length &&
    num(await chart.getAttribute("data-opens")) === kpis.opens && num(await chart.getAttribute("data-clicks")) === kpis.clicks, "per day");
  await page.selectOption("#timeline-bucket", "auto");
  await page.waitForSelector("#timeline-chart[data-bucket=hour]", { state: "attached" });
});

test("profile search: the filter error's position, then a live count", async ({ page, base }) => {
  await page.goto(base + "/#/profiles");
  await page.waitForSelector("#profile-count-value");
  await page.fill("#filter", "tier = 'gold' and tierz = 1");
  await page.waitForSelector("#filter-position");
  expect(/line 1, column 19/.test(await page.textContent("#filter-position")), "position");
  expect(/tierz/.test(await page.textContent("#filter-error")), "the message names the column");
  await shot(page, "6-profiles-error");
  const q = "tier = 'gold' and email is not null";
  await page.fill("#filter", q);
  await page.waitForSelector("#filter-error", { state: "hidden" });
  const want = (await apiGet(page, base, "/profiles?limit=1&filter=" + encodeURIComponent(q))).count;
  await page.waitForFunction((n) => {
    const e = document.getElementById("profile-count-value");
    return e && Number(e.textContent.replace(/,/g, "")) === n;
  }, want);
  await shot(page, "7-profiles-count");
});

test("a viewer sees no action button", async ({ browser, base, ids, problems }) => {
  const { context, page } = await newPage(browser, problems);
  try {
    await login(page, base, "victor");
    expect(/viewer/.test(await page.textContent("#who")), "logged in as the viewer");
    for (const [hash, ready] of [[`#/deliveries/${ids.delivery}`, "#kpis"], [`#/runs/${ids.run}`, "#run-graph"],
      [`#/workflows/1`, "#runs"]]) {
      await page.goto(base + "/" + hash);
      await page.waitForSelector(ready);
      expect(await page.locator("button[data-action]").count() === 0, `no action on ${hash}`);
    }
    await page.goto(base + `/#/deliveries/${ids.delivery}`);
    await page.waitForSelector("#kpis");
    expect(await page.locator("button[data-action=confirm]").count() === 0, "no confirm button");
    // and the API agrees
    const me = await apiGet(page, base, "/me");
    const r = await page.request.post(base + `/api/v1/deliveries/${ids.delivery}/pause`,
      { data: {}, headers: { "X-CSRF-Token": me.csrf_token } });
    expect(r.status() === 403 && (await r.json()).error.code === "forbidden", `viewer's POST: ${r.status()}`);
    await shot(page, "8-viewer-delivery");
  } finally {
    await context.close();
  }
});

/* Keys sorted, positions left out: two definitions compared as documents. */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.keys(v).filter((k) => k !== "position").sort().map((k) => [k, canonical(v[k])]));
  return v;
}

/* where each seed-001 activity is dragged to: columns left to right, the split's branches stacked */
const SEED_LAYOUT = {
  start: [0, 1], gold: [1, 1], offer: [2, 1], wait3d: [3, 1], behaviour: [4, 1],
  reminder: [5, 0], nudge: [5, 1], engaged: [5, 2], end: [6, 2],
};

async function dragTo(page, id, x, y) {
  // canvas units to screen: the SVG is scaled to its box
  const box = await page.locator("#editor-canvas").boundingBox();
  const scale = box.width / Number(await page.getAttribute("#editor-canvas", "width"));
  const r = await page.locator(`#editor-canvas g.node[data-activity="${id}"] rect`).boundingBox();
  await page.mouse.move(r.x + 10, r.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + x * scale + 10, box.y + y * scale + 10, { steps: 6 });
  await page.mouse.up();
}

const node = (id) => `#editor-canvas g.node[data-activity="${id}"] rect`;

test("an operator builds the seed-001 workflow on the canvas, validates, saves and starts it", async ({ page, base, crierRun }) => {
  const seed = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "seed-001-cross-channel.json"), "utf8"));
  const NAME = "gold-offer-canvas";
  await page.goto(base + "/#/");
  await page.click("#new-workflow");
  await page.waitForSelector("#editor-canvas g.node[data-activity=start]");
  await page.fill("#wf-name", NAME);
  await page.fill("#wf-label", seed.label);
  await page.fill("#wf-campaign", seed.campaign);
  // every activity from the palette, its fields typed in the side panel (the split's segments
  // as JSON); the reminder's template misspelt on purpose
  for (const a of seed.activities) {
    if (a.id !== "start") {
      await page.click(`#palette button[data-type="${a.type}"]`);
      await page.waitForSelector(`#editor-canvas g.node.selected[data-type="${a.type}"]`);
      await page.fill("#field-id", a.id);
      await page.waitForSelector(`#editor-canvas g.node.selected[data-activity="${a.id}"]`);
    }
    for (const [k, v] of Object.entries(a)) {
      if (k === "id" || k === "type") continue;
      const f = page.locator(`#editor-panel #field-${k}`);
      const value = a.id === "reminder" && k === "template" ? "offer-reminderz" : v;
      if (await f.evaluate((e) => e.tagName) === "SELECT") await f.selectOption(String(value));
      else await f.fill(typeof value === "object" ? JSON.stringify(value, null, 2) : String(value));
    }
  }
  // JSON that does not parse is said so, and not taken
  await page.click(node("behaviour"));
  await page.fill("#field-segments", "[{\"name\": ");
  await page.waitForSelector("#field-segments-error:not([hidden])");
  await page.fill("#field-segments", JSON.stringify(seed.activities.find((a) => a.id === "behaviour").segments));
  await page.waitForSelector("#field-segments-error", { state: "hidden" });
  // a stray activity and a stray transition, deleted again
  await page.click("#palette button[data-type=fork]");
  await page.waitForSelector("#editor-canvas g.node[data-activity=fork]");
  await page.click("#editor-panel button[data-output=default]");
  await page.click(node("end"));
  await page.waitForSelector('#editor-canvas g.edge[data-from=fork][data-to=end]', { state: "attached" });
  await page.click("#transition-table button[data-delete-transition=\"0\"]");
  await page.waitForSelector('#editor-canvas g.edge[data-from=fork]', { state: "detached" });
  await page.click(node("fork"));
  await page.click("#delete-activity");
  await page.waitForSelector("#editor-canvas g.node[data-activity=fork]", { state: "detached" });
  // drag every box to its place
  for (const [id, [cx, cy]] of Object.entries(SEED_LAYOUT))
    await dragTo(page, id, 20 + cx * 165, 20 + cy * 110);
  // connect: an activity, its output, then the target
  for (const t of seed.transitions) {
    const [from, output] = t.from.includes(".") ? t.from.split(".") : [t.from, "default"];
    await page.click(node(from));
    await page.click(`#editor-panel button[data-output="${output}"]`);
    await page.click(node(t.to));
    await page.waitForSelector(`#editor-canvas g.edge[data-from="${t.from}"][data-to="${t.to}"]`, { state: "attached" });
  }
  expect(await page.locator("#editor-canvas g.edge").count() === seed.transitions.length, "every transition drawn");
  expect((await page.locator('#editor-canvas g.edge[data-from="behaviour.clicked"] text.output').textContent()) === "clicked",
    "the arrow is labelled with its output");
  await shot(page, "9-editor-built");

  // validate: the misspelt template is shown on the reminder's box and in its panel
  await page.click("#editor-validate");
  await page.waitForSelector('#editor-canvas g.node.invalid[data-activity="reminder"]');
  expect(await page.locator("#editor-canvas g.node.invalid").count() === 1, "only the reminder has a problem");
  expect(/offer-reminderz/.test(await page.textContent('#editor-canvas g.node[data-activity="reminder"] text.problem')), "the problem on the box");
  expect(/reminder/.test(await page.textContent("#editor-problems li[data-activity=reminder]")), "the problem listed");
  await page.click(node("reminder"));
  expect(/offer-reminderz/.test(await page.textContent("#editor-panel .problem")), "the problem by its field");
  await shot(page, "10-editor-problem");
  await page.fill("#field-template", "offer-reminder");
  await page.click("#editor-validate");
  await page.waitForFunction(() => /Valid/.test(document.getElementById("editor-status").textContent));
  expect(await page.locator("#editor-canvas g.node.invalid").count() === 0, "no problem left");

  // save, and the stored definition is the example's (positions apart)
  await page.click("#editor-save");
  await page.waitForFunction(() => /Saved/.test(document.getElementById("editor-status").textContent));
  const id = Number((await page.evaluate(() => location.hash)).match(/^#\/workflows\/(\d+)\/edit$/)[1]);
  const wf = await apiGet(page, base, `/workflows/${id}`);
  expect(wf.name === NAME && wf.definition.label === seed.label && wf.definition.campaign === seed.campaign, wf);
  expect(JSON.stringify(canonical(wf.definition.activities)) === JSON.stringify(canonical(seed.activities)),
    `activities:\n${JSON.stringify(wf.definition.activities)}`);
  expect(JSON.stringify(canonical(wf.definition.transitions)) === JSON.stringify(canonical(seed.transitions)),
    `transitions:\n${JSON.stringify(wf.definition.transitions)}`);
  for (const a of wf.definition.activities) {
    const [cx, cy] = SEED_LAYOUT[a.id];
    expect(Math.abs(a.position.x - (20 + cx * 165)) <= 2 && Math.abs(a.position.y - (20 + cy * 110)) <= 2,
      `${a.id} saved where it was dropped: ${JSON.stringify(a.position)}`);
  }
  // loaded again from the API, the boxes are where they were saved; a move is a new version
  await page.reload();
  await page.waitForSelector(node("engaged"));
  const t0 = await page.getAttribute('#editor-canvas g.node[data-activity="engaged"]', "transform");
  const saved = wf.definition.activities.find((a) => a.id === "engaged").position;
  expect(t0 === `translate(${saved.x},${saved.y})`, `engaged at ${t0}, saved at ${JSON.stringify(saved)}`);
  await dragTo(page, "end", 20 + 6 * 165, 20 + 3 * 110);
  await page.click("#editor-save");
  await page.waitForFunction(() => /Saved: version 2/.test(document.getElementById("editor-status").textContent));
  const v2 = await apiGet(page, base, `/workflows/${id}`);
  expect(v2.version === 2 && Math.abs(v2.definition.activities.find((a) => a.id === "end").position.y - 350) <= 2, v2);
  await shot(page, "11-editor-saved");

  // start: the run view, then followed as the engine runs (three days later the split shares out)
  await page.click("#editor-start");
  await page.waitForSelector("#run-graph g.edge", { state: "attached" });
  const runId = Number((await page.evaluate(() => location.hash)).match(/^#\/runs\/(\d+)$/)[1]);
  crierRun("engine", "run", "--until-idle");
  crierRun("clock", "advance", "3d");
  crierRun("engine", "run", "--until-idle");
  await page.reload();
  await page.waitForSelector("#run-graph g.edge.carried", { state: "attached" });
  const run = await apiGet(page, base, `/runs/${runId}`);
  expect(run.workflow === NAME && run.transitions.length === 8, run);
  let carried = 0;
  for (const [k, t] of run.transitions.entries()) {
    const labels = await page.locator(`#run-graph g.edge[data-index="${k}"] text.count`).allTextContents();
    if (t.count === null) expect(labels.length === 0, `${t.from} -> ${t.to}: ${labels}`);
    else {
      expect(labels.length === 1 && num(labels[0]) === t.count, `${t.from} -> ${t.to}: ${labels} vs ${t.count}`);
      if (t.count > 0) carried++;
    }
  }
  expect(carried >= 4, `populations shown on ${carried} transitions`);
  await shot(page, "12-canvas-run");
});

async function main() {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`skipped: no Chromium at ${CHROMIUM} (scripts/install-deps installs Debian's chromium)`);
    process.exit(77);
  }
  const { chromium } = playwright();
  const ids = setup();
  const server = await serve();
  // messages rendered from now on link to this server's tracking endpoints
  crier("config", "set", "public_url", server.base);
  let browser;
  let passed = 0, failed = 0;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const problems = [];
    const { context, page } = await newPage(browser, problems);
    const response = await login(page, server.base, "olga");
    const env = { browser, page, base: server.base, ids, response, problems, crierRun: crier };
    for (const t of tests) {
      try {
        await t.fn(env);
        expect(problems.length === 0, problems.join("\n"));
        passed++;
        console.log(`ok   ${t.name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}\n${e.stack || e}`);
        await shot(page, "failed-" + passed + failed).catch(() => {});
        problems.length = 0;
      }
    }
    await context.close();
  } finally {
    if (browser) await browser.close();
    server.proc.kill("SIGTERM");
  }
  console.log(`screenshots: ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
