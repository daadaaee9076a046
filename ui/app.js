/*
 * app.js - crier's web UI: a single-page app over the REST API (/api/v1, docs/api.md)
 *
 * No framework and no build step: the DOM is built with createElement and textContent (data
 * from the API is never parsed as HTML), pages are chosen by the URL's hash (#/runs/3), and
 * every request goes through api(), which sends the session cookie and, for anything but GET,
 * the X-CSRF-Token the login (or GET /me after a reload) gave. A 401 shows the login form.
 * A viewer sees no action button; an operator or admin sees those the object's status allows.
 */
"use strict";

const API = "/api/v1";
const SVG = "http://www.w3.org/2000/svg";
const session = { me: null, csrf: null };
let renderSeq = 0; // a page whose answers arrive after the user left it draws nothing

/* ------------------------------------------------------------------ helpers --- */

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "http_" + status;
    this.field = e.field || null;
    this.line = e.line || null;
    this.column = e.column || null;
    this.problems = Array.isArray(e.problems) ? e.problems : null;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD" && session.csrf)
    headers["X-CSRF-Token"] = session.csrf;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(API + path, init);
  let j = null;
  const text = await r.text();
  if (text) {
    try { j = JSON.parse(text); } catch (e) { j = null; }
  }
  if (!r.ok) {
    const err = new ApiError(r.status, j);
    if (r.status === 401 && path !== "/login") {
      session.me = null;
      session.csrf = null;
      showLogin(err.code === "session_expired" ? "Your session expired: log in again." : null);
    }
    throw err;
  }
  return j;
}

/* el("a", {href: "#/"}, "text", child...) - attributes, then children (strings become text) */
function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.setAttribute("class", v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const main = () => document.getElementById("main");

function page(...children) {
  const m = main();
  m.replaceChildren(...children.flat().filter(Boolean));
  return m;
}

function fmtNum(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en");
}

function fmtRate(r) {
  return r === null || r === undefined ? "" : `${Number(r).toFixed(1)} %`;
}

function fmtTime(t) {
  return t ? t.replace("T", " ").replace("Z", " UTC") : "—";
}

function status(s) {
  return el("span", { class: `status ${s || ""}`, "data-status": s || "" }, s || "—");
}

function errorBox(e) {
  return el("div", { class: "error", role: "alert" }, e instanceof Error ? e.message : String(e));
}

const canAct = () => session.me && (session.me.role === "operator" || session.me.role === "admin");

function table(columns, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null }, c.title)))),
    el("tbody", {}, rows.length ? rows.map((r) => el("tr", { "data-id": r.id },
      columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(r)))))
      : el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "Nothing yet."))));
}

/* ------------------------------------------------------------ frame & login --- */

function header() {
  const top = document.getElementById("top");
  if (!session.me) {
    top.replaceChildren(el("span", { class: "brand" }, "crier"));
    return;
  }
  top.replaceChildren(
    el("span", { class: "brand" }, "crier"),
    el("a", { href: "#/" }, "Marketing activities"),
    el("a", { href: "#/profiles" }, "Profiles"),
    el("span", { class: "spacer" }),
    el("span", { class: "who", id: "who" }, `${session.me.name} (${session.me.role})`),
    el("button", { class: "secondary", id: "logout", onclick: logout }, "Log out"));
}

function showLogin(message) {
  header();
  const name = el("input", { type: "text", id: "login-name", autocomplete: "username", required: true });
  const password = el("input", { type: "password", id: "login-password", autocomplete: "current-password", required: true });
  const err = el("div", { class: "error", id: "login-error", role: "alert", hidden: !message }, message || "");
  const form = el("form", { class: "card login", id: "login-form" },
    el("h1", {}, "Log in to crier"),
    el("label", { for: "login-name" }, "User name"), name,
    el("label", { for: "login-password" }, "Password"), password,
    err,
    el("button", { type: "submit", id: "login-submit" }, "Log in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    try {
      const r = await api("POST", "/login", { name: name.value, password: password.value });
      session.me = r.user;
      session.csrf = r.csrf_token;
      if (location.hash === "" || location.hash === "#/login") location.hash = "#/";
      route();
    } catch (e) {
      err.textContent = e.code === "too_many_attempts"
        ? "Too many failed attempts: wait a little before trying again."
        : e.status === 401 ? "Wrong user name or password." : e.message;
      err.hidden = false;
    }
  });
  page(form);
  name.focus();
}

async function logout() {
  try { await api("POST", "/logout"); } catch (e) { /* the session is gone either way */ }
  session.me = null;
  session.csrf = null;
  showLogin("You are logged out.");
}

/* ----------------------------------------------------- marketing activities --- */

async function activitiesPage(seq) {
  const showRecurring = sessionStorage.getItem("crier.showRecurring") === "1";
  const [campaigns, workflows, deliveries] = await Promise.all([
    api("GET", "/campaigns"), api("GET", "/workflows"), api("GET", "/deliveries?all=1")]);
  if (seq !== renderSeq) return;
  const box = el("input", { type: "checkbox", id: "show-recurring", checked: showRecurring });
  box.addEventListener("change", () => {
    sessionStorage.setItem("crier.showRecurring", box.checked ? "1" : "0");
    route();
  });
  // recurring executions (a delivery with a parent) only when asked
  const shown = deliveries.filter((d) => showRecurring || d.parent === null);
  page(
    el("h1", {}, "Marketing activities"),
    el("h2", {}, "Campaigns"),
    table([
      { title: "Name", cell: (c) => el("a", { href: `#/campaigns/${c.id}` }, c.name) },
      { title: "Label", cell: (c) => c.label || "" },
      { title: "Status", cell: (c) => status(c.status) },
      { title: "Start", cell: (c) => c.start || "" },
      { title: "End", cell: (c) => c.end || "" },
    ], campaigns, { id: "campaigns" }),
    el("h2", {}, "Workflows"),
    canAct() ? el("p", {}, el("a", { href: "#/workflows/new", id: "new-workflow" }, "+ New workflow")) : null,
    table([
      { title: "Name", cell: (w) => el("a", { href: `#/workflows/${w.id}` }, w.name) },
      { title: "Label", cell: (w) => w.label || "" },
      { title: "Campaign", cell: (w) => w.campaign || "" },
      { title: "Status", cell: (w) => status(w.status) },
      { title: "Version", num: true, cell: (w) => w.version },
      { title: "Runs", num: true, cell: (w) => w.runs },
      { title: "Last run", cell: (w) => w.last_run ? el("a", { href: `#/runs/${w.last_run}`, class: "last-run" }, `run ${w.last_run}`) : "" },
    ], workflows, { id: "workflows" }),
    el("h2", {}, "Deliveries"),
    el("div", { class: "toolbar" },
      el("label", {}, box, " Show recurring executions")),
    deliveryTable(shown, "deliveries"));
}

function deliveryTable(list, id) {
  return table([
    { title: "Id", num: true, cell: (d) => d.id },
    { title: "Label", cell: (d) => el("a", { href: `#/deliveries/${d.id}` }, d.label || `delivery ${d.id}`) },
    { title: "Channel", cell: (d) => d.channel },
    { title: "Status", cell: (d) => status(d.status) },
    { title: "Targeted", num: true, cell: (d) => fmtNum(d.kpis && d.kpis.targeted) },
    { title: "Sent", num: true, cell: (d) => fmtNum(d.kpis && d.kpis.sent) },
    { title: "Execution of", cell: (d) => d.parent ? el("a", { href: `#/deliveries/${d.parent}` }, `${d.parent}${d.period ? " · " + d.period : ""}`) : "" },
  ], list, { id });
}

async function campaignPage(seq, id) {
  const c = await api("GET", `/campaigns/${id}`);
  if (seq !== renderSeq) return;
  page(
    el("p", {}, el("a", { href: "#/" }, "← Marketing activities")),
    el("h1", {}, `Campaign ${c.name}`, " ", status(c.status)),
    el("div", { class: "card" }, el("dl", { class: "facts" },
      el("dt", {}, "Label"), el("dd", {}, c.label || "—"),
      el("dt", {}, "Start"), el("dd", {}, c.start || "—"),
      el("dt", {}, "End"), el("dd", {}, c.end || "—"))),
    el("h2", {}, "Workflows"),
    table([
      { title: "Name", cell: (w) => el("a", { href: `#/workflows/${w.id}` }, w.name) },
      { title: "Status", cell: (w) => status(w.status) },
    ], c.workflows || []),
    el("h2", {}, "Deliveries"),
    table([
      { title: "Id", num: true, cell: (d) => d.id },
      { title: "Label", cell: (d) => el("a", { href: `#/deliveries/${d.id}` }, d.label || `delivery ${d.id}`) },
      { title: "Channel", cell: (d) => d.channel },
      { title: "Status", cell: (d) => status(d.status) },
    ], c.deliveries || []));
}

/* ---------------------------------------------------------------- workflows --- */

async function workflowPage(seq, id) {
  const [all, runs] = await Promise.all([api("GET", "/workflows"), api("GET", `/workflows/${id}/runs`)]);
  if (seq !== renderSeq) return;
  const w = all.find((x) => x.id === Number(id)) || { id, name: `workflow ${id}` };
  const err = el("div", { class: "error", hidden: true, role: "alert" });
  const actions = el("div", { class: "actions" });
  if (canAct())
    actions.append(el("button", {
      "data-action": "start", onclick: async () => {
        try {
          const r = await api("POST", `/workflows/${id}/start`, {});
          location.hash = `#/runs/${r.run}`;
        } catch (e) { err.textContent = e.message; err.hidden = false; }
      },
    }, "Start a run"));
  page(
    el("p", {}, el("a", { href: "#/" }, "← Marketing activities")),
    el("h1", {}, `Workflow ${w.name}`, " ", status(w.status)),
    el("p", { class: "muted" }, w.label || ""),
    el("p", {}, el("a", { href: `#/workflows/${id}/edit`, id: "edit-workflow" }, canAct() ? "Edit on the canvas" : "Open on the canvas")),
    actions, err,
    el("h2", {}, "Runs"),
    table([
      { title: "Run", cell: (r) => el("a", { href: `#/runs/${r.run}` }, `run ${r.run}`) },
      { title: "Status", cell: (r) => status(r.status) },
      { title: "Version", num: true, cell: (r) => r.version },
      { title: "Started", cell: (r) => fmtTime(r.started_at) },
      { title: "Ended", cell: (r) => fmtTime(r.ended_at) },
      { title: "Cause", cell: (r) => r.cause || "" },
      { title: "Error", cell: (r) => r.error || "" },
    ], runs.map((r) => Object.assign({ id: r.run }, r)), { id: "runs" }));
}

/* "gold.default" -> ["gold", "default"]; "gold" -> ["gold", "default"] */
function splitEnd(s) {
  const i = s.indexOf(".");
  return i < 0 ? [s, "default"] : [s.slice(0, i), s.slice(i + 1)];
}

/* Layers by longest path from the sources (topological order, Kahn); what a cycle leaves is
 * put after the rest. Within a layer, by the mean position of the predecessors. */
function layout(activities, transitions) {
  const ids = activities.map((a) => a.id);
  const preds = new Map(ids.map((i) => [i, []]));
  const succs = new Map(ids.map((i) => [i, []]));
  for (const t of transitions) {
    const [from] = splitEnd(t.from);
    if (!preds.has(t.to) || !succs.has(from)) continue;
    preds.get(t.to).push(from);
    succs.get(from).push(t.to);
  }
  const indeg = new Map(ids.map((i) => [i, preds.get(i).length]));
  const layer = new Map();
  const queue = ids.filter((i) => indeg.get(i) === 0);
  queue.forEach((i) => layer.set(i, 0));
  const order = [];
  while (queue.length) {
    const n = queue.shift();
    order.push(n);
    for (const s of succs.get(n)) {
      layer.set(s, Math.max(layer.get(s) || 0, layer.get(n) + 1));
      indeg.set(s, indeg.get(s) - 1);
      if (indeg.get(s) === 0) queue.push(s);
    }
  }
  let maxLayer = Math.max(0, ...order.map((i) => layer.get(i)));
  for (const i of ids)
    if (!order.includes(i)) { layer.set(i, ++maxLayer); order.push(i); }
  const layers = [];
  for (const i of order) (layers[layer.get(i)] = layers[layer.get(i)] || []).push(i);
  const row = new Map();
  for (const l of layers) {
    if (!l) continue;
    const key = (i) => {
      const p = preds.get(i).filter((x) => row.has(x));
      return p.length ? p.reduce((s, x) => s + row.get(x), 0) / p.length : 0;
    };
    const orderIndex = new Map(l.map((i, k) => [i, k]));
    l.sort((a, b) => key(a) - key(b) || orderIndex.get(a) - orderIndex.get(b));
    l.forEach((i, k) => row.set(i, k));
  }
  return { layer, row, layers: layers.filter(Boolean) };
}

function drawRun(run) {
  const W = 150, H = 64, GX = 100, GY = 36, PAD = 24;
  const { layer, row, layers } = layout(run.activities, run.transitions);
  const rows = Math.max(1, ...layers.map((l) => l.length));
  const height = PAD * 2 + rows * H + (rows - 1) * GY;
  const width = PAD * 2 + layers.length * W + (layers.length - 1) * GX;
  const pos = new Map();
  for (const a of run.activities) {
    const n = layers[layer.get(a.id)] ? layers[layer.get(a.id)].length : 1;
    const top = (height - (n * H + (n - 1) * GY)) / 2; // each layer centred
    pos.set(a.id, { x: PAD + layer.get(a.id) * (W + GX), y: top + row.get(a.id) * (H + GY) });
  }
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "run-graph", role: "img", "aria-label": `workflow ${run.workflow}, run ${run.run}` },
    svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))));
  // transitions first, under the boxes; several from one activity leave at spread heights
  const outs = new Map();
  for (const t of run.transitions) {
    const [from] = splitEnd(t.from);
    outs.set(from, (outs.get(from) || 0) + 1);
  }
  const seen = new Map();
  run.transitions.forEach((t, k) => {
    const [from, output] = splitEnd(t.from);
    const a = pos.get(from), b = pos.get(t.to);
    if (!a || !b) return;
    const nOut = outs.get(from), iOut = seen.get(from) || 0;
    seen.set(from, iOut + 1);
    const x1 = a.x + W, y1 = a.y + H * (iOut + 1) / (nOut + 1);
    const x2 = b.x, y2 = b.y + H / 2;
    const dx = Math.max(30, (x2 - x1) / 2);
    const carried = t.count !== null && t.count !== undefined;
    const g = svg("g", { class: `edge${carried ? " carried" : ""}`, "data-from": t.from, "data-to": t.to, "data-index": k, "data-count": carried ? t.count : "" },
      svg("path", { d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)" }));
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2; // the curve's middle
    if (output !== "default")
      g.append(svg("text", { x: mx, y: my - 14, "text-anchor": "middle", class: "output" }, output));
    if (carried) {
      const label = fmtNum(t.count);
      const w = 12 + 7.5 * label.length;
      g.append(svg("rect", { x: mx - w / 2, y: my - 10, width: w, height: 20, rx: 10, class: "count-bg" }),
        svg("text", { x: mx, y: my + 4, "text-anchor": "middle", class: "count" }, String(t.count)));
    }
    g.append(svg("title", {}, `${t.from} → ${t.to}: ${carried ? fmtNum(t.count) + " profiles" : "nothing carried yet"}`));
    root.append(g);
  });
  for (const a of run.activities) {
    const p = pos.get(a.id);
    root.append(svg("g", { class: `node ${a.status}`, "data-activity": a.id, "data-status": a.status, transform: `translate(${p.x},${p.y})` },
      svg("rect", { width: W, height: H, rx: 6 }),
      svg("text", { x: 10, y: 19, class: "id" }, a.id),
      svg("text", { x: 10, y: 35, class: "type" }, a.type),
      svg("text", { x: 10, y: 52, class: "st" }, a.status + (a.wake_at ? ` until ${a.wake_at.slice(5, 16).replace("T", " ")}` : "")),
      svg("title", {}, `${a.id} (${a.type}): ${a.status}; in ${fmtNum(a.count_in)}, out ${fmtNum(a.count_out)}; executions ${a.executions}`)));
  }
  return el("div", { class: "graph" }, root);
}

const DELIVERY_TYPES = new Set(["email", "sms", "push", "external"]);

async function runPage(seq, id) {
  const run = await api("GET", `/runs/${id}`);
  if (seq !== renderSeq) return;
  const workflows = await api("GET", "/workflows");
  if (seq !== renderSeq) return;
  const wf = workflows.find((w) => w.name === run.workflow);
  const err = el("div", { class: "error", hidden: true, role: "alert" });
  const act = (what, path) => el("button", {
    "data-action": what, class: what === "stop" ? "danger" : null,
    onclick: async () => {
      if (what === "stop" && !(await ask("Stop this run?", "A stopped run cannot be resumed.", null, "Stop")))
        return;
      try {
        const r = await api("POST", path, {});
        location.hash = r && r.run && what === "start" ? `#/runs/${r.run}` : location.hash;
        route();
      } catch (e) { err.textContent = e.message; err.hidden = false; }
    },
  }, what[0].toUpperCase() + what.slice(1));
  const actions = el("div", { class: "actions" });
  if (canAct()) {
    if (wf) actions.append(act("start", `/workflows/${wf.id}/start`));
    if (run.status === "running") actions.append(act("pause", `/runs/${id}/pause`), act("stop", `/runs/${id}/stop`));
    if (run.status === "paused") actions.append(act("resume", `/runs/${id}/resume`), act("stop", `/runs/${id}/stop`));
  }
  actions.append(el("button", { class: "secondary", onclick: () => route() }, "Refresh"));
  const deliveries = el("div", { id: "run-deliveries" });
  page(
    el("p", {}, el("a", { href: wf ? `#/workflows/${wf.id}` : "#/" }, `← Workflow ${run.workflow}`)),
    el("h1", {}, `Run ${run.run} of ${run.workflow}`, " ", el("span", { id: "run-status" }, status(run.status))),
    el("div", { class: "card" }, el("dl", { class: "facts" },
      el("dt", {}, "Started"), el("dd", {}, fmtTime(run.started_at)),
      el("dt", {}, "Ended"), el("dd", {}, fmtTime(run.ended_at)),
      el("dt", {}, "Version"), el("dd", {}, run.version),
      el("dt", {}, "Cause"), el("dd", {}, run.cause || "—"),
      run.error ? [el("dt", {}, "Error"), el("dd", { class: "error" }, run.error)] : null)),
    actions, err,
    drawRun(run),
    el("h2", {}, "Activities"),
    table([
      { title: "Activity", cell: (a) => a.id },
      { title: "Type", cell: (a) => a.type },
      { title: "Status", cell: (a) => status(a.status) },
      { title: "In", num: true, cell: (a) => fmtNum(a.count_in) },
      { title: "Out", num: true, cell: (a) => fmtNum(a.count_out) },
      { title: "Outputs", cell: (a) => Object.entries(a.outputs || {}).map(([k, v]) => `${k}: ${fmtNum(v)}`).join(", ") },
      { title: "Executions", num: true, cell: (a) => a.executions },
    ], run.activities, { id: "activities" }),
    deliveries,
    (run.children && run.children.length) ? [el("h2", {}, "Child runs"),
      el("ul", {}, run.children.map((c) => el("li", {}, el("a", { href: `#/runs/${c.run || c}` }, `run ${c.run || c}`))))] : null);
  // the deliveries this run made: listed by label "workflow / activity", then checked
  const names = new Set(run.activities.filter((a) => DELIVERY_TYPES.has(a.type)).map((a) => `${run.workflow} / ${a.id}`));
  if (!names.size) return;
  const all = await api("GET", "/deliveries?all=1");
  const candidates = all.filter((d) => d.parent === null && names.has(d.label));
  const shown = (await Promise.all(candidates.map((d) => api("GET", `/deliveries/${d.id}`))))
    .filter((d) => d.workflow_run === run.run);
  if (seq !== renderSeq || !shown.length) return;
  deliveries.replaceChildren(el("h2", {}, "Deliveries of this run"), deliveryTable(shown, "run-delivery-list"));
}

/* ---------------------------------------------------------------- deliveries --- */

/* A modal question; resolves true when the user confirms. */
function ask(title, text, target, okLabel) {
  return new Promise((resolve) => {
    const dlg = el("dialog", { id: "confirm-dialog" },
      el("h2", {}, title),
      text ? el("p", {}, text) : null,
      target !== null && target !== undefined
        ? el("p", {}, "Target: ", el("span", { class: "target", id: "confirm-target" }, fmtNum(target)), " recipients") : null,
      el("div", { class: "actions" },
        el("button", { id: "confirm-ok", value: "ok", class: okLabel === "Stop" ? "danger" : null }, okLabel || "OK"),
        el("button", { id: "confirm-cancel", value: "cancel", class: "secondary" }, "Cancel")));
    const close = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    dlg.querySelector("#confirm-ok").addEventListener("click", () => close(true));
    dlg.querySelector("#confirm-cancel").addEventListener("click", () => close(false));
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); close(false); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/* The proof dialog: addresses, or none for the template's proof_to. */
function askProof() {
  return new Promise((resolve) => {
    const input = el("input", { type: "text", id: "proof-to", placeholder: "qa@example.com, …", size: 36 });
    const dlg = el("dialog", { id: "proof-dialog" },
      el("h2", {}, "Send a proof"),
      el("p", { class: "muted" }, "Addresses, separated by commas; leave empty for the template's proof addresses."),
      input,
      el("div", { class: "actions" },
        el("button", { id: "proof-ok" }, "Send proof"),
        el("button", { id: "proof-cancel", class: "secondary" }, "Cancel")));
    const close = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    dlg.querySelector("#proof-ok").addEventListener("click", () =>
      close(input.value.split(",").map((s) => s.trim()).filter(Boolean)));
    dlg.querySelector("#proof-cancel").addEventListener("click", () => close(null));
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); close(null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/* Which actions a delivery's status allows (the API answers 409 for the others). */
function deliveryActions(st) {
  return {
    draft: ["prepare", "proof"],
    failed: ["prepare"],
    ready: ["prepare", "proof", "confirm"],
    sending: ["pause", "stop"],
    paused: ["resume", "stop"],
  }[st] || [];
}

const ACTION_LABELS = { prepare: "Prepare", proof: "Send proof", confirm: "Confirm sending", pause: "Pause", resume: "Resume", stop: "Stop" };

function tile(key, label, value, rate, extra) {
  return el("div", { class: "tile", "data-kpi": key },
    el("div", { class: "label" }, label),
    el("div", { class: "value" }, fmtNum(value)),
    el("div", { class: "rate" }, [rate !== undefined ? fmtRate(rate) : "", extra || ""].filter(Boolean).join(" · ")));
}

async function deliveryPage(seq, id) {
  const d = await api("GET", `/deliveries/${id}`);
  if (seq !== renderSeq) return;
  const k = d.kpis || {};
  const r = k.rates || {};
  const err = el("div", { class: "error", hidden: true, role: "alert", id: "delivery-error" });
  const note = el("p", { class: "muted", id: "delivery-note", hidden: true });
  const actions = el("div", { class: "actions", id: "delivery-actions" });
  if (canAct()) {
    for (const a of deliveryActions(d.status)) {
      actions.append(el("button", {
        "data-action": a, class: a === "stop" ? "danger" : a === "confirm" ? null : "secondary",
        onclick: async () => {
          err.hidden = true;
          let body;
          if (a === "confirm" && !(await ask("Confirm the sending?", `Delivery ${d.label || d.id} will be sent.`, k.targeted, "Confirm")))
            return;
          if (a === "stop" && !(await ask("Stop the sending for good?", "A stopped delivery cannot be resumed.", null, "Stop")))
            return;
          if (a === "proof") {
            const to = await askProof();
            if (to === null) return;
            body = to.length ? { to } : {};
          }
          try {
            const res = await api("POST", `/deliveries/${id}/${a}`, body === undefined ? {} : body);
            if (a === "proof") {
              note.textContent = res.file ? `Proof file written: ${res.file}` : `Proofs sent: ${res.sent}`;
              note.hidden = false;
              return;
            }
            route();
          } catch (e) { err.textContent = e.message; err.hidden = false; }
        },
      }, ACTION_LABELS[a]));
    }
  }
  actions.append(el("button", { class: "secondary", id: "refresh", onclick: () => route() }, "Refresh"));
  const excluded = Object.entries(k.excluded || {});
  const failed = (k.failed_hard || 0) + (k.failed_soft || 0);
  page(
    el("p", {}, el("a", { href: "#/" }, "← Marketing activities"),
      d.workflow_run ? [" · ", el("a", { href: `#/runs/${d.workflow_run}` }, `run ${d.workflow_run}`)] : null,
      d.parent ? [" · ", el("a", { href: `#/deliveries/${d.parent}` }, `recurring delivery ${d.parent}`)] : null),
    el("h1", {}, d.label || `Delivery ${d.id}`, " ", el("span", { id: "delivery-status" }, status(d.status))),
    actions, err, note,
    el("section", { class: "tiles", id: "kpis" },
      tile("targeted", "Targeted", k.targeted),
      tile("sent", "Sent", k.sent, r.sent, k.pending ? `${fmtNum(k.pending)} pending` : ""),
      tile("delivered", "Delivered", k.delivered, r.delivered),
      tile("failed", "Failed", failed, r.failed, `${fmtNum(k.failed_hard)} hard, ${fmtNum(k.failed_soft)} soft`),
      tile("opens", "Opens", k.unique_opens, r.opens, `${fmtNum(k.opens)} in all`),
      tile("clicks", "Clicks", k.unique_clicks, r.clicks, `${fmtNum(k.clicks)} in all`),
      tile("unsubscriptions", "Unsubscriptions", k.unsubscriptions, r.unsubscriptions)),
    el("div", { class: "grid2" },
      el("div", {},
        el("h2", {}, "Delivery"),
        el("div", { class: "card" }, el("dl", { class: "facts" },
          el("dt", {}, "Channel"), el("dd", {}, d.channel),
          el("dt", {}, "Template"), el("dd", {}, d.template || "—"),
          el("dt", {}, "Account"), el("dd", {}, d.account || "—"),
          el("dt", {}, "Campaign"), el("dd", {}, d.campaign || "—"),
          el("dt", {}, "Target"), el("dd", {}, d.filter || (d.population ? `population ${d.population}` : "—")),
          el("dt", {}, "Needs confirmation"), el("dd", {}, d.options && d.options.confirm ? "yes" : "no"),
          el("dt", {}, "Prepared"), el("dd", {}, fmtTime(d.prepared_at)),
          el("dt", {}, "Confirmed"), el("dd", {}, d.confirmed_at ? `${fmtTime(d.confirmed_at)}${d.confirmed_by ? " by " + d.confirmed_by : ""}` : "—"),
          el("dt", {}, "Sent"), el("dd", {}, fmtTime(d.sent_at)),
          d.period ? [el("dt", {}, "Period"), el("dd", {}, d.period)] : null,
          d.error ? [el("dt", {}, "Error"), el("dd", { class: "error" }, d.error)] : null))),
      el("div", {},
        el("h2", {}, "Exclusions by reason"),
        table([
          { title: "Reason", cell: (x) => x.reason.replace(/_/g, " ") },
          { title: "Profiles", num: true, cell: (x) => fmtNum(x.count) },
        ], excluded.map(([reason, count]) => ({ id: reason, reason, count })), { id: "exclusions" }))),
    el("h2", {}, "Opens and clicks over time"),
    timelineView(seq, id),
    el("h2", {}, "Clicks per link"),
    table([
      { title: "Link", cell: (l) => l.label || "" },
      { title: "URL", cell: (l) => l.url },
      { title: "Clicks", num: true, cell: (l) => fmtNum(l.clicks) },
      { title: "Unique clicks", num: true, cell: (l) => fmtNum(l.unique_clicks) },
    ], (k.links || []).map((l, i) => Object.assign({ id: i }, l)), { id: "links" }),
    el("h2", {}, "Logs"),
    logsView(seq, id));
}

/* ------------------------------------------------------- timeline chart --- */

const HOUR_MS = 3600 * 1000;

/* 1, 2 or 5 times a power of ten, at least x / 4: the step of the value axis */
function niceStep(max) {
  const raw = Math.max(1, max / 4);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return 10 * p;
}

function bucketLabel(at, bucket) {
  // "2026-12-04T09:00:00Z": a day is its date, an hour its date and hour
  return bucket === "day" ? at.slice(0, 10) : `${at.slice(5, 10)} ${at.slice(11, 16)}`;
}

/* Opens and clicks per bucket (GET /deliveries/{id}/timeline) as grouped bars in an SVG drawn
 * with DOM calls: the value axis with its grid, one label per few buckets, a legend, a <title>
 * on each bar and, for screen readers and copying, the same numbers in a table. The SVG and
 * each bucket carry their numbers as data-* attributes. "Automatic" is per hour when the hits
 * span less than three days, else per day. */
function timelineView(seq, id) {
  const saved = sessionStorage.getItem("crier.timeline.bucket") || "auto";
  const choice = el("select", { id: "timeline-bucket" },
    [["auto", "automatic"], ["hour", "per hour"], ["day", "per day"]].map(([v, t]) =>
      el("option", { value: v, selected: v === saved }, t)));
  const body = el("div", { id: "timeline", "data-state": "loading" }, el("p", { class: "muted" }, "Loading…"));
  const load = async () => {
    let bucket = choice.value === "day" ? "day" : "hour";
    let t;
    try {
      t = await api("GET", `/deliveries/${id}/timeline?bucket=${bucket}`);
      const items = t.items || [];
      if (choice.value === "auto" && items.length > 1 &&
          Date.parse(items[items.length - 1].at) - Date.parse(items[0].at) >= 72 * HOUR_MS) {
        bucket = "day";
        t = await api("GET", `/deliveries/${id}/timeline?bucket=day`);
      }
    } catch (e) {
      if (seq === renderSeq) body.replaceChildren(errorBox(e));
      return;
    }
    if (seq !== renderSeq) return;
    const items = t.items || [];
    body.setAttribute("data-state", items.length ? "chart" : "empty");
    body.setAttribute("data-bucket", t.bucket || bucket);
    body.replaceChildren(...(items.length ? timelineChart(items, t.bucket || bucket)
      : [el("p", { class: "muted", id: "timeline-empty" }, "No opens or clicks yet.")]));
  };
  choice.addEventListener("change", () => {
    sessionStorage.setItem("crier.timeline.bucket", choice.value);
    load();
  });
  load();
  return el("div", { class: "timeline" },
    el("div", { class: "toolbar" }, el("label", {}, "Buckets ", choice)),
    body);
}

function timelineChart(items, bucket) {
  const W = 760, H = 270, L = 52, R = 16, T = 34, B = 52;
  const pw = W - L - R, ph = H - T - B;
  const sum = (f) => items.reduce((a, x) => a + (Number(x[f]) || 0), 0);
  const totals = { opens: sum("opens"), clicks: sum("clicks"), unique_opens: sum("unique_opens"), unique_clicks: sum("unique_clicks") };
  const max = Math.max(1, ...items.map((x) => Math.max(x.opens || 0, x.clicks || 0)));
  const step = niceStep(max);
  const top = step * Math.ceil(max / step);
  const y = (v) => T + ph - (v / top) * ph;
  const n = items.length;
  const slot = pw / n;
  const bw = Math.max(1, Math.min(22, (slot * 0.8) / 2));
  const every = Math.ceil(n / 10); // at most about ten labels under the axis
  const per = bucket === "day" ? "day" : "hour";
  const ticks = [];
  for (let v = 0; v <= top; v += step)
    ticks.push(svg("g", { class: "tick" },
      svg("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      svg("text", { class: "ylabel", x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmtNum(v))));
  const bars = items.map((x, i) => {
    const cx = L + slot * i + slot / 2;
    const when = bucketLabel(x.at, bucket);
    const bar = (series, value, unique, dx) => svg("rect", {
      class: `bar ${series}`, "data-series": series, "data-value": value,
      x: (cx + dx).toFixed(2), y: y(value).toFixed(2), width: bw.toFixed(2), height: (T + ph - y(value)).toFixed(2),
    }, svg("title", {}, `${when} UTC: ${fmtNum(value)} ${series} (${fmtNum(unique)} unique)`));
    return svg("g", {
      class: "bucket", "data-at": x.at, "data-opens": x.opens, "data-clicks": x.clicks,
      "data-unique-opens": x.unique_opens, "data-unique-clicks": x.unique_clicks,
    },
    bar("opens", x.opens, x.unique_opens, -bw),
    bar("clicks", x.clicks, x.unique_clicks, 0),
    i % every === 0 ? svg("text", { class: "xlabel", x: cx.toFixed(2), y: T + ph + 16, "text-anchor": "middle" }, when) : null);
  });
  const summary = `${fmtNum(totals.opens)} opens and ${fmtNum(totals.clicks)} clicks per ${per} (UTC), ` +
    `from ${fmtTime(items[0].at)} to ${fmtTime(items[n - 1].at)}`;
  const chart = svg("svg", {
    id: "timeline-chart", class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: "img", "aria-labelledby": "timeline-title timeline-desc",
    "data-bucket": bucket, "data-buckets": n, "data-opens": totals.opens, "data-clicks": totals.clicks,
    "data-unique-opens": totals.unique_opens, "data-unique-clicks": totals.unique_clicks,
  },
  svg("title", { id: "timeline-title" }, "Opens and clicks over time"),
  svg("desc", { id: "timeline-desc" }, summary),
  ticks,
  svg("line", { class: "axis", x1: L, x2: W - R, y1: T + ph, y2: T + ph }),
  svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: T + ph }),
  svg("text", { class: "axis-title", x: 14, y: T + ph / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${T + ph / 2})` }, "hits"),
  svg("text", { class: "axis-title", x: L + pw / 2, y: H - 8, "text-anchor": "middle" }, `time (UTC), per ${per}`),
  svg("g", { class: "legend", id: "timeline-legend" },
    svg("rect", { class: "bar opens", x: L, y: 10, width: 12, height: 12 }),
    svg("text", { x: L + 18, y: 20 }, `opens (${fmtNum(totals.opens)})`),
    svg("rect", { class: "bar clicks", x: L + 150, y: 10, width: 12, height: 12 }),
    svg("text", { x: L + 168, y: 20 }, `clicks (${fmtNum(totals.clicks)})`)),
  svg("g", { class: "bars" }, bars));
  const rows = items.map((x) => Object.assign({ id: x.at }, x));
  const tbl = table([
    { title: per === "day" ? "Day (UTC)" : "Hour (UTC)", cell: (x) => x.total ? "Total" : bucketLabel(x.at, bucket) },
    { title: "Opens", num: true, cell: (x) => fmtNum(x.opens) },
    { title: "Unique opens", num: true, cell: (x) => fmtNum(x.unique_opens) },
    { title: "Clicks", num: true, cell: (x) => fmtNum(x.clicks) },
    { title: "Unique clicks", num: true, cell: (x) => fmtNum(x.unique_clicks) },
  ], rows.concat([Object.assign({ id: "total", total: true }, totals)]), { id: "timeline-table" });
  return [
    el("div", { class: "chart-box" }, chart),
    el("details", { class: "chart-table" }, el("summary", { id: "timeline-table-summary" }, "The numbers as a table"), tbl),
  ];
}

function logsView(seq, id) {
  const LIMIT = 20;
  let offset = 0;
  const filter = el("select", { id: "log-status" },
    ["", "pending", "sending", "sent", "failed", "excluded"].map((s) => el("option", { value: s }, s || "every status")));
  const body = el("div", { id: "logs" });
  const prev = el("button", { class: "secondary", id: "logs-prev" }, "← Previous");
  const next = el("button", { class: "secondary", id: "logs-next" }, "Next →");
  const where = el("span", { class: "muted", id: "logs-page" });
  const load = async () => {
    const q = new URLSearchParams({ offset, limit: LIMIT });
    if (filter.value) q.set("status", filter.value);
    let rows;
    try { rows = await api("GET", `/deliveries/${id}/logs?${q}`); } catch (e) { body.replaceChildren(errorBox(e)); return; }
    if (seq !== renderSeq) return;
    body.replaceChildren(table([
      { title: "Profile", num: true, cell: (l) => l.profile },
      { title: "Address", cell: (l) => l.address || "" },
      { title: "Status", cell: (l) => status(l.status) },
      { title: "Reason", cell: (l) => l.reason || l.failure_type || "" },
      { title: "Attempts", num: true, cell: (l) => l.attempts },
      { title: "Sent at", cell: (l) => fmtTime(l.sent_at) },
      { title: "Proof", cell: (l) => l.proof ? "proof" : "" },
      { title: "Error", cell: (l) => l.error || "" },
    ], rows, { id: "log-table" }));
    where.textContent = rows.length ? `rows ${offset + 1}–${offset + rows.length}` : "no rows";
    prev.disabled = offset === 0;
    next.disabled = rows.length < LIMIT;
  };
  filter.addEventListener("change", () => { offset = 0; load(); });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
  next.addEventListener("click", () => { offset += LIMIT; load(); });
  load();
  return el("div", {},
    el("div", { class: "toolbar" }, el("label", {}, "Status ", filter)),
    body,
    el("div", { class: "pager" }, prev, next, where));
}

/* ------------------------------------------------------------------ profiles --- */

function profilesPage(seq) {
  const LIMIT = 20;
  let offset = 0, timer = null, asked = 0;
  const saved = sessionStorage.getItem("crier.filter") || "";
  const input = el("textarea", { id: "filter", rows: 2, spellcheck: "false", placeholder: "tier = 'gold' and email is not null" }, saved);
  const count = el("div", { class: "count-live", id: "profile-count", "aria-live": "polite" });
  const error = el("div", { class: "error", id: "filter-error", hidden: true, role: "alert" });
  const results = el("div", { id: "profile-results" });
  const prev = el("button", { class: "secondary" }, "← Previous");
  const next = el("button", { class: "secondary" }, "Next →");
  const search = async () => {
    const n = ++asked;
    const text = input.value.trim();
    sessionStorage.setItem("crier.filter", input.value);
    const q = new URLSearchParams({ offset, limit: LIMIT });
    if (text) q.set("filter", text);
    let r;
    try {
      r = await api("GET", `/profiles?${q}`);
    } catch (e) {
      if (n !== asked || seq !== renderSeq) return;
      count.textContent = "";
      error.replaceChildren(el("div", {}, e.message));
      if (e.line && e.column) {
        // the faulty line, and a caret under the column the API names
        const line = input.value.split("\n")[e.line - 1] || "";
        error.append(el("div", { class: "caret", id: "filter-caret" }, line + "\n" + " ".repeat(Math.max(0, e.column - 1)) + "^"),
          el("div", { class: "muted", id: "filter-position" }, `line ${e.line}, column ${e.column}`));
      }
      error.hidden = false;
      results.replaceChildren();
      prev.disabled = next.disabled = true;
      return;
    }
    if (n !== asked || seq !== renderSeq) return;
    error.hidden = true;
    count.replaceChildren(el("strong", { id: "profile-count-value" }, fmtNum(r.count)), r.count === 1 ? " profile" : " profiles");
    results.replaceChildren(table([
      { title: "Id", num: true, cell: (p) => p.id },
      { title: "Name", cell: (p) => [p.first_name, p.last_name].filter(Boolean).join(" ") },
      { title: "Email", cell: (p) => p.email || "" },
      { title: "Phone", cell: (p) => p.phone || "" },
      { title: "Tier", cell: (p) => p.tier || "" },
      { title: "Country", cell: (p) => p.country || "" },
    ], r.items, { id: "profile-table" }));
    prev.disabled = offset === 0;
    next.disabled = offset + r.items.length >= r.count;
  };
  input.addEventListener("input", () => {
    offset = 0;
    clearTimeout(timer);
    timer = setTimeout(search, 250); // a count per pause in typing, not per key
  });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); search(); });
  next.addEventListener("click", () => { offset += LIMIT; search(); });
  page(
    el("h1", {}, "Profiles"),
    el("p", { class: "muted" }, "A filter in crier's filter language, e.g. ",
      el("code", {}, "tier = 'gold' and country in ('FR','BE')"), ", ",
      el("code", {}, "opened(offer) and not clicked(offer)"), ". The count follows as you type."),
    el("div", { class: "filterbox" }, input),
    count, error, results,
    el("div", { class: "pager" }, prev, next));
  search();
}

/* ------------------------------------------------------------ workflow editor --- */

/* Each activity type's fields (docs/workflow-format.md) as the side panel edits them:
 * [name, kind, choices]. kind: text, area (a filter or condition), number, choice (a select
 * whose empty choice leaves the field out), bool (unset / true / false: a default is not
 * written), json (a textarea checked as JSON), template, account (text with suggestions). */
const BOOL = ["bool"];
const DELIVERY_FIELDS = [["template", "template"], ["account", "account"], ["confirm", ...BOOL],
  ["outbound", "choice", ["none", "without_population", "with_population"]], ["recurring", "json"]];
const ACTIVITY_TYPES = {
  start: [], end: [],
  query: [["filter", "area"], ["dimension", "choice", ["profile", "subscription"]], ["limit", "number"], ["order", "text"]],
  split: [["segments", "json"], ["overlap", ...BOOL], ["complement", ...BOOL]],
  wait: [["duration", "text"], ["until", "text"]],
  email: DELIVERY_FIELDS, sms: DELIVERY_FIELDS,
  push: [...DELIVERY_FIELDS, ["platform", "choice", ["ios", "android"]]],
  external: DELIVERY_FIELDS,
  list_update: [["list", "text"], ["mode", "choice", ["add", "remove", "replace"]]],
  union: [], fork: [], and_join: [["keep", "text"]],
  test: [["condition", "area"]],
  scheduler: [["cron", "text"], ["timezone", "text"], ["every", "text"], ["start", "text"], ["end", "text"]],
  exclusion: [["keep", "text"]], dedup: [["key", "text"]], read_list: [["list", "text"]],
  intersection: [],
};
const BOX_W = 140, BOX_H = 60, GAP_X = 25, GAP_Y = 36, CANVAS_W = 1180, CANVAS_H = 560;
const ID_RE = /^[A-Za-z0-9_-]{1,63}$/;

/* An activity's outputs, as a transition's "from" names them after the dot. */
function outputsOf(a) {
  if (a.type === "end") return [];
  if (a.type === "test") return ["true", "false"];
  if (a.type === "split") {
    const names = Array.isArray(a.segments) ? a.segments.map((s) => s && s.name).filter((n) => typeof n === "string" && n) : [];
    return a.complement === true ? [...names, "complement"] : names;
  }
  if (DELIVERY_TYPES.has(a.type)) return a.outbound && a.outbound !== "none" ? ["default"] : [];
  return ["default"];
}

/* Replaces a node's children as el() takes them (arrays flattened, null left out). */
function refill(node, ...children) {
  node.replaceChildren();
  return build(node, null, children);
}

const fromOf = (id, output) => (output === "default" ? id : `${id}.${output}`);

async function editorPage(seq, id) {
  const [wf, templates, accounts] = await Promise.all([
    id ? api("GET", `/workflows/${id}`) : null,
    api("GET", "/templates").catch(() => []), api("GET", "/accounts").catch(() => [])]);
  if (seq !== renderSeq) return;
  let def = wf ? wf.definition : { name: "", activities: [{ id: "start", type: "start" }], transitions: [] };
  if (typeof def === "string") def = JSON.parse(def);
  def = def || { name: wf ? wf.name : "", activities: [], transitions: [] };
  const ed = {
    id: id ? Number(id) : null,
    doc: Object.assign({}, def),
    acts: (def.activities || []).map((a) => Object.assign({}, a)),
    trans: (def.transitions || []).map((t) => Object.assign({}, t)),
    sel: null, // an activity object, or {transition: index}
    connecting: null, // "activity[.output]" waiting for its target
    problems: [],
    jsonBad: new Set(), // "activity/field" whose JSON does not parse
    dirty: false,
  };
  delete ed.doc.activities;
  delete ed.doc.transitions;
  // the default layout for activities without a position: the run view's
  const missing = ed.acts.filter((a) => !a.position || typeof a.position.x !== "number");
  if (missing.length) {
    const { layer, row } = layout(ed.acts, ed.trans);
    for (const a of missing)
      a.position = { x: 20 + (layer.get(a.id) || 0) * (BOX_W + GAP_X), y: 20 + (row.get(a.id) || 0) * (BOX_H + GAP_Y) };
  }

  const statusLine = el("div", { class: "muted", id: "editor-status", "aria-live": "polite" });
  const err = el("div", { class: "error", hidden: true, role: "alert", id: "editor-error" });
  const problemsBox = el("div", { id: "editor-problems" });
  const canvas = svg("svg", { id: "editor-canvas", width: CANVAS_W, height: CANVAS_H, viewBox: `0 0 ${CANVAS_W} ${CANVAS_H}`, role: "application", "aria-label": "workflow canvas" });
  const panel = el("div", { class: "card panel", id: "editor-panel" });
  const transList = el("div", { id: "editor-transitions" });
  const say = (text) => { statusLine.textContent = text; };
  const fail = (e) => { err.textContent = e instanceof Error ? e.message : String(e); err.hidden = false; };
  const changed = () => { ed.dirty = true; say("Changed, not saved."); };

  const docFields = ["name", "label", "campaign"].map((f) => {
    const input = el("input", { type: "text", id: `wf-${f}`, value: ed.doc[f] || "", readonly: f === "name" && ed.id !== null });
    input.addEventListener("input", () => {
      if (input.value.trim()) ed.doc[f] = input.value.trim(); else delete ed.doc[f];
      changed();
    });
    return el("label", { class: "field" }, f[0].toUpperCase() + f.slice(1), input);
  });

  const definition = () => {
    const d = Object.assign({}, ed.doc);
    d.activities = ed.acts.map((a) => Object.assign({}, a, { position: { x: Math.round(a.position.x), y: Math.round(a.position.y) } }));
    d.transitions = ed.trans.map((t) => Object.assign({}, t));
    return d;
  };

  /* ---- the canvas */
  const pointOf = (ev) => {
    const m = canvas.getScreenCTM();
    const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  };
  /* A press on a box starts a drag; the pointer is captured by the canvas, so the box follows
   * it even outside the visible part. Released without moving, it is a click: select the box,
   * or end the connection being made there. A press on the background clears the selection. */
  let drag = null;
  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const g = ev.target.closest("g.node");
    if (!g) {
      if (ev.target === canvas) { ed.connecting = null; ed.sel = null; draw(); showPanel(); }
      return;
    }
    const a = ed.acts.find((x) => x.id === g.getAttribute("data-activity"));
    if (!a) return;
    const p = pointOf(ev);
    drag = { a, dx: p.x - a.position.x, dy: p.y - a.position.y, start: p, moved: false };
    canvas.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const p = pointOf(ev);
    if (!drag.moved && Math.hypot(p.x - drag.start.x, p.y - drag.start.y) < 4) return;
    drag.moved = true;
    drag.a.position = {
      x: Math.round(Math.max(0, Math.min(CANVAS_W - BOX_W, p.x - drag.dx))),
      y: Math.round(Math.max(0, Math.min(CANVAS_H - BOX_H, p.y - drag.dy))),
    };
    draw();
  });
  const endDrag = (ev) => {
    const d = drag;
    drag = null;
    if (!d) return;
    if (canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
    if (d.moved) changed();
    else if (ev.type === "pointerup") nodeClicked(d.a);
  };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);

  function nodeClicked(a) {
    if (ed.connecting) {
      const [from] = splitEnd(ed.connecting);
      if (from === a.id) { say("An activity cannot lead to itself."); return; }
      if (ed.trans.some((t) => t.from === ed.connecting && t.to === a.id)) { say("That transition exists already."); ed.connecting = null; draw(); return; }
      ed.trans.push({ from: ed.connecting, to: a.id });
      say(`Connected ${ed.connecting} → ${a.id}.`);
      ed.connecting = null;
      ed.dirty = true;
    }
    ed.sel = a;
    draw();
    showPanel();
  }

  function draw() {
    const byId = new Map(ed.acts.map((a) => [a.id, a]));
    const probs = new Map();
    for (const p of ed.problems) if (p.activity) (probs.get(p.activity) || probs.set(p.activity, []).get(p.activity)).push(p);
    const kids = [svg("defs", {}, svg("marker", { id: "ed-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" })))];
    const outs = new Map(), seen = new Map();
    for (const t of ed.trans) { const [f] = splitEnd(t.from); outs.set(f, (outs.get(f) || 0) + 1); }
    ed.trans.forEach((t, k) => {
      const [from, output] = splitEnd(t.from);
      const a = byId.get(from), b = byId.get(t.to);
      if (!a || !b) return;
      const nOut = outs.get(from), iOut = seen.get(from) || 0;
      seen.set(from, iOut + 1);
      const x1 = a.position.x + BOX_W, y1 = a.position.y + BOX_H * (iOut + 1) / (nOut + 1);
      const x2 = b.position.x, y2 = b.position.y + BOX_H / 2;
      const dx = Math.max(30, Math.abs(x2 - x1) / 2);
      // backwards: a loop below the boxes rather than a line through them
      const d = x2 >= x1 + 20 ? `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`
        : `M ${x1} ${y1} C ${x1 + 80} ${y1 + BOX_H}, ${x2 - 80} ${y2 + BOX_H}, ${x2} ${y2}`;
      const selected = ed.sel && ed.sel.transition === k;
      const g = svg("g", { class: `edge${selected ? " selected" : ""}`, "data-from": t.from, "data-to": t.to, "data-index": k },
        svg("path", { d, class: "hit" }),
        svg("path", { d, class: "line", "marker-end": "url(#ed-arrow)" }),
        output !== "default" ? svg("text", { x: x1 + 4, y: y1 - 3, class: "output" }, output) : null,
        svg("title", {}, `${t.from} → ${t.to}`));
      g.addEventListener("click", (ev) => { ev.stopPropagation(); ed.sel = { transition: k }; ed.connecting = null; draw(); showPanel(); });
      kids.push(g);
    });
    for (const a of ed.acts) {
      const mine = probs.get(a.id) || [];
      const cls = ["node", a.type, ed.sel === a ? "selected" : "", mine.length ? "invalid" : "", ed.connecting ? "target" : ""].filter(Boolean).join(" ");
      const g = svg("g", { class: cls, "data-activity": a.id, "data-type": a.type, "data-problems": mine.length, transform: `translate(${a.position.x},${a.position.y})` },
        svg("rect", { width: BOX_W, height: BOX_H, rx: 6 }),
        svg("text", { x: 10, y: 20, class: "id" }, a.id),
        svg("text", { x: 10, y: 37, class: "type" }, a.type),
        a.label ? svg("text", { x: 10, y: 54, class: "st" }, a.label.length > 20 ? a.label.slice(0, 19) + "…" : a.label) : null,
        mine.length ? svg("text", { x: 0, y: BOX_H + 14, class: "problem" }, mine[0].message.length > 34 ? mine[0].message.slice(0, 33) + "…" : mine[0].message) : null,
        mine.length > 1 ? svg("text", { x: 0, y: BOX_H + 28, class: "problem" }, `and ${mine.length - 1} more`) : null,
        svg("title", {}, mine.length ? mine.map((p) => `${p.field ? p.field + ": " : ""}${p.message}`).join("\n") : `${a.id} (${a.type})`));
      kids.push(g);
    }
    canvas.replaceChildren(...kids);
    drawTransitions();
  }

  function drawTransitions() {
    transList.replaceChildren(table([
      { title: "From", cell: (t) => t.from },
      { title: "To", cell: (t) => t.to },
      { title: "", cell: (t) => el("button", { class: "secondary small", "data-delete-transition": t.k, onclick: () => deleteTransition(t.k) }, "Delete") },
    ], ed.trans.map((t, k) => ({ id: k, k, from: t.from, to: t.to })), { id: "transition-table" }));
  }

  function deleteTransition(k) {
    ed.trans.splice(k, 1);
    if (ed.sel && ed.sel.transition !== undefined) ed.sel = null;
    changed();
    draw();
    showPanel();
  }

  function rename(a, to) {
    const old = a.id;
    for (const t of ed.trans) {
      const [f, o] = splitEnd(t.from);
      if (f === old) t.from = fromOf(to, o);
      if (t.to === old) t.to = to;
    }
    a.id = to;
  }

  /* ---- the side panel: rebuilt when the selection changes, never while a field is typed in
   * (only its outputs follow the fields: a split's segments, a delivery's outbound) */
  let refreshOutputs = () => {};
  function fieldInput(a, name, kind, choices) {
    const key = `${a.id}/${name}`;
    const fid = `field-${name}`;
    const note = el("div", { class: "field-error", id: `${fid}-error`, hidden: true });
    const set = (v) => {
      if (v === undefined) delete a[name]; else a[name] = v;
      changed();
      draw();
      refreshOutputs();
    };
    let input;
    const cur = a[name];
    if (kind === "choice" || kind === "bool") {
      const opts = kind === "bool" ? ["true", "false"] : choices;
      input = el("select", { id: fid, "data-field": name },
        el("option", { value: "" }, "(default)"),
        opts.map((o) => el("option", { value: o, selected: cur !== undefined && String(cur) === o }, o)));
      input.addEventListener("change", () => {
        const v = input.value;
        set(v === "" ? undefined : kind === "bool" ? v === "true" : v);
      });
    } else if (kind === "json" || kind === "area") {
      const text = kind === "json" ? (cur === undefined ? "" : JSON.stringify(cur, null, 1)) : (cur || "");
      input = el("textarea", { id: fid, "data-field": name, rows: kind === "json" ? 8 : 3, spellcheck: "false" }, text);
      input.addEventListener("input", () => {
        const v = input.value.trim();
        if (kind === "area") return set(v ? input.value : undefined);
        if (!v) { ed.jsonBad.delete(key); note.hidden = true; return set(undefined); }
        try {
          const parsed = JSON.parse(v);
          ed.jsonBad.delete(key);
          note.hidden = true;
          set(parsed);
        } catch (e) {
          ed.jsonBad.add(key);
          note.textContent = `Not JSON: ${e.message}`;
          note.hidden = false;
        }
      });
    } else {
      const list = kind === "template" ? "dl-templates" : kind === "account" ? "dl-accounts" : null;
      input = el("input", { type: kind === "number" ? "number" : "text", id: fid, "data-field": name, value: cur === undefined ? "" : String(cur), list });
      input.addEventListener("input", () => {
        const v = input.value.trim();
        set(v === "" ? undefined : kind === "number" ? Number(v) : v);
      });
    }
    const mine = ed.problems.filter((p) => p.activity === a.id && p.field === name);
    return el("label", { class: "field" }, name, input, note,
      mine.map((p) => el("div", { class: "field-error problem" }, p.message)));
  }

  function showPanel() {
    refreshOutputs = () => {};
    ed.jsonBad.clear(); // the text that did not parse goes with the panel; the last JSON that did stays
    const s = ed.sel;
    if (s && s.transition !== undefined) {
      const t = ed.trans[s.transition];
      refill(panel, el("h2", {}, "Transition"), el("p", {}, `${t.from} → ${t.to}`),
        el("button", { class: "danger", id: "delete-transition", onclick: () => deleteTransition(s.transition) }, "Delete transition"));
      return;
    }
    if (!s) {
      refill(panel, el("h2", {}, "Activity"),
        el("p", { class: "muted" }, "Add an activity from the palette, or click one on the canvas to edit it, connect it or delete it. Drag a box to move it."));
      return;
    }
    const a = s;
    const idInput = el("input", { type: "text", id: "field-id", value: a.id });
    const idNote = el("div", { class: "field-error", id: "field-id-error", hidden: true });
    idInput.addEventListener("input", () => {
      const v = idInput.value.trim();
      const why = !ID_RE.test(v) ? "1–63 letters, digits, _ or -" : v !== a.id && ed.acts.some((x) => x.id === v) ? `'${v}' is taken` : null;
      idNote.textContent = why || "";
      idNote.hidden = !why;
      if (why || v === a.id) return;
      rename(a, v);
      changed();
      draw();
    });
    const common = ["label", "description"].map((f) => {
      const input = el("input", { type: "text", id: `field-${f}`, value: a[f] || "" });
      input.addEventListener("input", () => { if (input.value) a[f] = input.value; else delete a[f]; changed(); draw(); });
      return el("label", { class: "field" }, f, input);
    });
    const outsBox = el("div", { id: "panel-outputs" });
    refreshOutputs = () => {
      const outputs = outputsOf(a);
      refill(outsBox, outputs.length
        ? el("div", { class: "actions outputs" }, outputs.map((o) => el("button", {
          class: ed.connecting === fromOf(a.id, o) ? null : "secondary", "data-output": o,
          onclick: () => { ed.connecting = fromOf(a.id, o); say(`Now click the activity ${fromOf(a.id, o)} leads to (Esc to cancel).`); draw(); refreshOutputs(); },
        }, `${o} →`)))
        : el("p", { class: "muted" }, a.type === "split" ? "Name the segments to get outputs." : "This activity has no output."));
    };
    refreshOutputs();
    const mine = ed.problems.filter((p) => p.activity === a.id);
    refill(panel, 
      el("h2", {}, `Activity `, el("span", { class: "muted" }, a.type)),
      mine.length ? el("ul", { class: "problems", id: "panel-problems" },
        mine.map((p) => el("li", {}, p.field ? `${p.field}: ` : "", p.message))) : null,
      el("label", { class: "field" }, "id", idInput, idNote),
      common,
      (ACTIVITY_TYPES[a.type] || []).map(([name, kind, choices]) => fieldInput(a, name, kind, choices)),
      el("h3", {}, "Connect"),
      outsBox,
      el("div", { class: "actions" }, el("button", { class: "danger", id: "delete-activity", onclick: () => {
        ed.acts = ed.acts.filter((x) => x !== a);
        ed.trans = ed.trans.filter((t) => splitEnd(t.from)[0] !== a.id && t.to !== a.id);
        ed.sel = null;
        changed();
        draw();
        showPanel();
      } }, "Delete activity")));
  }

  /* ---- the palette */
  const addActivity = (type) => {
    let n = 1, newId = type;
    while (ed.acts.some((a) => a.id === newId)) newId = `${type}${++n}`;
    // the first free cell of a grid
    let pos = null;
    for (let k = 0; !pos && k < 200; k++) {
      const x = 20 + (k % 7) * (BOX_W + GAP_X), y = 20 + Math.floor(k / 7) * (BOX_H + GAP_Y);
      if (!ed.acts.some((a) => Math.abs(a.position.x - x) < BOX_W && Math.abs(a.position.y - y) < BOX_H)) pos = { x, y };
    }
    const a = { id: newId, type, position: pos || { x: 24, y: 24 } };
    ed.acts.push(a);
    ed.sel = a;
    ed.connecting = null;
    changed();
    draw();
    showPanel();
  };
  const palette = el("div", { class: "palette", id: "palette" }, el("span", { class: "muted" }, "Add:"),
    Object.keys(ACTIVITY_TYPES).map((t) => el("button", { class: "secondary small", "data-type": t, onclick: () => addActivity(t) }, t)));

  /* ---- validate, save, start */
  const showProblems = (list) => {
    ed.problems = list || [];
    refill(problemsBox, ed.problems.length
      ? el("ul", { class: "problems" }, ed.problems.map((p) => el("li", { "data-activity": p.activity || "" },
        p.activity ? el("strong", {}, p.activity) : null, p.activity ? " " : null, p.field ? `${p.field}: ` : "", p.message)))
      : null);
    draw();
    showPanel();
  };
  const ready = () => {
    err.hidden = true;
    if (ed.jsonBad.size) { fail(`Not JSON: ${[...ed.jsonBad].join(", ")}`); return false; }
    return true;
  };
  const validate = async () => {
    if (!ready()) return false;
    try {
      const r = await api("POST", "/workflows/validate", definition());
      showProblems(r.errors);
      say(r.valid ? "Valid: no problem found." : `${r.errors.length} problem${r.errors.length === 1 ? "" : "s"}.`);
      return r.valid;
    } catch (e) { fail(e); return false; }
  };
  const save = async () => {
    if (!ready()) return null;
    try {
      const w = ed.id === null ? await api("POST", "/workflows", definition())
        : await api("PUT", `/workflows/${ed.id}`, definition());
      ed.dirty = false;
      showProblems([]);
      say(`Saved: version ${w.version}.`);
      if (ed.id === null) {
        ed.id = w.id;
        history.replaceState(null, "", `#/workflows/${w.id}/edit`);
        document.getElementById("wf-name").readOnly = true;
        document.body.setAttribute("data-ready", location.hash);
      }
      return w;
    } catch (e) {
      if (e.problems) showProblems(e.problems);
      fail(e);
      return null;
    }
  };
  const start = async () => {
    if ((ed.dirty || ed.id === null) && !(await save())) return;
    try {
      const r = await api("POST", `/workflows/${ed.id}/start`, {});
      location.hash = `#/runs/${r.run}`;
    } catch (e) {
      if (e.problems) showProblems(e.problems);
      fail(e);
    }
  };
  const actions = el("div", { class: "actions" },
    el("button", { class: "secondary", id: "editor-validate", onclick: validate }, "Validate"),
    canAct() ? el("button", { id: "editor-save", onclick: save }, "Save") : null,
    canAct() ? el("button", { id: "editor-start", onclick: start }, "Start") : null);

  page(
    el("p", {}, el("a", { href: ed.id ? `#/workflows/${ed.id}` : "#/" }, ed.id ? `← Workflow ${wf.name}` : "← Marketing activities")),
    el("h1", {}, ed.id ? `Edit workflow ${wf.name}` : "New workflow"),
    el("datalist", { id: "dl-templates" }, (templates || []).map((t) => el("option", { value: t.name }, t.channel || ""))),
    el("datalist", { id: "dl-accounts" }, (accounts || []).map((t) => el("option", { value: t.name }, t.channel || t.kind || ""))),
    el("div", { class: "toolbar docfields" }, docFields),
    palette,
    el("div", { class: "editor" }, el("div", { class: "graph canvas" }, canvas), panel),
    actions, statusLine, err, problemsBox,
    el("h2", {}, "Transitions"), transList);
  const onKey = (ev) => {
    if (!document.body.contains(canvas)) { document.removeEventListener("keydown", onKey); return; }
    if (ev.key === "Escape" && ed.connecting) { ed.connecting = null; say("Connection cancelled."); draw(); showPanel(); }
  };
  document.addEventListener("keydown", onKey);
  draw();
  showPanel();
  say(ed.id ? `Version ${wf.version}.` : "A new workflow: name it, add activities, connect them.");
}

/* -------------------------------------------------------------------- router --- */

async function route() {
  const seq = ++renderSeq;
  document.querySelectorAll("dialog").forEach((d) => d.remove());
  if (!session.me) {
    try {
      const me = await api("GET", "/me");
      session.me = me;
      session.csrf = me.csrf_token || null;
    } catch (e) {
      if (e.status !== 401) page(errorBox(e));
      return; // api() showed the login form
    }
  }
  if (seq !== renderSeq) return;
  header();
  const h = location.hash.replace(/^#/, "") || "/";
  main().classList.toggle("wide", /^\/workflows\/(new|\d+\/edit)$/.test(h));
  const m = (re) => h.match(re);
  let r;
  try {
    if (h === "/" || h === "/login") await activitiesPage(seq);
    else if ((r = m(/^\/campaigns\/(\d+)$/))) await campaignPage(seq, r[1]);
    else if ((r = m(/^\/workflows\/(\d+)$/))) await workflowPage(seq, r[1]);
    else if (h === "/workflows/new") await editorPage(seq, null);
    else if ((r = m(/^\/workflows\/(\d+)\/edit$/))) await editorPage(seq, r[1]);
    else if ((r = m(/^\/runs\/(\d+)$/))) await runPage(seq, r[1]);
    else if ((r = m(/^\/deliveries\/(\d+)$/))) await deliveryPage(seq, r[1]);
    else if (h === "/profiles") profilesPage(seq);
    else page(el("h1", {}, "Not found"), el("p", {}, el("a", { href: "#/" }, "Marketing activities")));
  } catch (e) {
    if (e.status === 401) return;
    if (seq === renderSeq) page(el("h1", {}, "Something went wrong"), errorBox(e));
  }
  if (seq === renderSeq) document.body.setAttribute("data-ready", location.hash || "#/");
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", route);
