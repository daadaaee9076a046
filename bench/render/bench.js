// bench.js - liquidjs's side of bench/render: the same template and data as bench_render.c
// Usage: node bench.js TEMPLATE OFFERS.json N SAMPLE_OUT
// Parses once, then renders per profile with renderSync (liquidjs's fastest path).
'use strict';
const fs = require('fs');
const { Liquid } = require('liquidjs');

const first = ['Ada', 'Grace', 'Alan', '', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Edsger',
  'Frances', 'Donald', 'Radia', 'John', 'Hedy', 'Dennis', 'Katherine'];
const last = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Torvalds', 'Hamilton', 'Thompson',
  'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Perlman', 'McCarthy', 'Lamarr', 'Ritchie', 'Johnson'];
const tiers = ['gold', 'silver', 'bronze'];
const cities = ['Paris', 'Lyon', 'Berlin', 'Madrid', 'Rome', 'Lisbon', 'Vienna', 'Brussels'];

const [tplPath, offersPath, nArg, samplePath] = process.argv.slice(2);
const engine = new Liquid();
const tpl = engine.parse(fs.readFileSync(tplPath, 'utf8'));
const offers = JSON.parse(fs.readFileSync(offersPath, 'utf8'));
const n = parseInt(nArg, 10);
const samples = [];
let bytes = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const data = {
    profile: {
      first_name: first[i % 16],
      last_name: last[Math.floor(i / 16) % 16],
      tier: tiers[i % 3],
      city: cities[i % 8],
      points: (i * 37) % 5000,
    },
    offers,
  };
  const out = engine.renderSync(tpl, data);
  bytes += out.length;
  if (i < 3) samples.push(out);
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
fs.writeFileSync(samplePath, samples.join(''));
console.log(`liquidjs ${n} renders ${secs.toFixed(3)} seconds ${Math.round(n / secs)} renders/s ` +
  `(${(bytes / secs / 1e6).toFixed(1)} MB/s of output)`);
