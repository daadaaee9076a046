// send.js - the Node side of bench/email: liquidjs renders the same email template as crier
// for the same profiles (the same CSV), nodemailer's pooled SMTP transport sends them.
//
// Usage: node send.js TEMPLATE.json PROFILES.csv smtp://127.0.0.1:PORT CONNECTIONS
//        node send.js TEMPLATE.json PROFILES.csv --render K     (first K renders as JSON lines)
//
// Recipients are crier's target for the filter `email is not null`: profiles with an email,
// minus those opted out of email, minus repeated addresses (case-insensitively). Each message
// is rendered (subject, html, text; templates parsed once, renderSync per recipient, as in
// bench/render) right before it is handed to nodemailer, with at most WINDOW messages
// handed over and not yet answered, so the pool's connections never wait for work and the
// whole run's messages are never all in memory. The pool keeps its connections for every
// message (maxMessages: Infinity), as crier does.
// Prints "node N messages S seconds R messages/s" (time from the first render to the last
// answer) and exits 1 if any message failed.
'use strict';
const fs = require('fs');
const { Liquid } = require('liquidjs');
const nodemailer = require('nodemailer');

const [tplPath, csvPath, target, connArg] = process.argv.slice(2);

// RFC 4180 CSV: header row, quoted fields with "" escapes.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r') { i++; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += c; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const head = rows.shift();
  return rows.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k] === '' ? null : r[k]])));
}

function recipients(profiles) {
  const seen = new Set();
  const out = [];
  for (const p of profiles) {
    if (!p.email || p.email_optout === 'true') continue;
    const key = p.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

const tpl = JSON.parse(fs.readFileSync(tplPath, 'utf8'));
const engine = new Liquid();
const subject = engine.parse(tpl.subject);
const html = engine.parse(tpl.html);
const text = engine.parse(tpl.text);
const rcpts = recipients(parseCsv(fs.readFileSync(csvPath, 'utf8')));

function render(p) {
  const data = { profile: p };
  return {
    from: tpl.from,
    to: p.email,
    subject: engine.renderSync(subject, data),
    html: engine.renderSync(html, data),
    text: engine.renderSync(text, data),
  };
}

if (target === '--render') {
  const k = Math.min(parseInt(connArg, 10), rcpts.length);
  for (let i = 0; i < k; i++) console.log(JSON.stringify(render(rcpts[i])));
  process.exit(0);
}

const conns = parseInt(connArg, 10);
const url = new URL(target);
const transport = nodemailer.createTransport({
  pool: true,
  maxConnections: conns,
  maxMessages: Infinity,
  host: url.hostname,
  port: parseInt(url.port, 10),
  secure: false,
  ignoreTLS: true,
});
const WINDOW = Math.max(64, 8 * conns);

async function main() {
  const t0 = process.hrtime.bigint();
  let next = 0, failed = 0, firstError = null;
  async function worker() {
    while (next < rcpts.length) {
      const m = render(rcpts[next++]);
      try {
        await transport.sendMail(m);
      } catch (e) {
        failed++;
        firstError = firstError || e;
      }
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  transport.close();
  console.log(`node ${rcpts.length} messages ${secs.toFixed(3)} seconds ` +
    `${Math.round(rcpts.length / secs)} messages/s`);
  if (failed) {
    console.error(`node: ${failed} messages failed, the first: ${firstError && firstError.message}`);
    process.exit(1);
  }
}

main();
