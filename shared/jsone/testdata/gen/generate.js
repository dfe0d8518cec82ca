#!/usr/bin/env node
// Generates ../corpus.json: every case of cases.js rendered by the reference
// implementation of JSON-e (npm json-e, pinned in package.json), so that the
// Go tests of shared/jsone can compare against it without Node.
//
//   npm ci && node generate.js        (or `make testdata` from the repository root)
//
// Rules:
//   * The clock is frozen at NOW, as in the JSON-e specification suite.
//   * Templates and contexts are passed with their object keys sorted: Go
//     decodes JSON objects into maps and has no key order, so sorted order is
//     the order our engine defines wherever order shows (which of two failing
//     keys reports first, which $map entry wins).
//   * A case whose reference outcome is not a JSON-e answer (a plain
//     JavaScript exception, or a number JSON cannot hold such as NaN) must be
//     declared a deviation in cases.js, as must every case where our engine
//     deliberately answers differently. A deviation whose outcome equals the
//     reference's is reported as stale, so the list stays true.
'use strict';

const fs = require('fs');
const path = require('path');

const NOW = '2017-01-19T16:27:20.974Z';

// Freeze the clock before json-e is loaded: it reads `new Date()` for the
// variable now and for fromNow without a reference.
const RealDate = Date;
const frozen = RealDate.parse(NOW);
global.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) {
      super(frozen);
    } else {
      super(...args);
    }
  }
  static now() {
    return frozen;
  }
};

const jsone = require('json-e');
const {JSONTemplateError} = require('json-e/src/error');
const cases = require('./cases');

const version = require('json-e/package.json').version;

// sortKeys returns a deep copy of v with every object's keys in sorted order
// (by UTF-16 code unit, which is byte order for the ASCII keys used here).
function sortKeys(v) {
  if (Array.isArray(v)) {
    return v.map(sortKeys);
  }
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) {
      out[k] = sortKeys(v[k]);
    }
    return out;
  }
  return v;
}

// jsonSafe reports whether v survives JSON.stringify unchanged: no
// functions, no undefined, only finite numbers.
function jsonSafe(v) {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v);
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      if (v === null) {
        return true;
      }
      if (Array.isArray(v)) {
        return v.every(jsonSafe);
      }
      return Object.keys(v).every(k => jsonSafe(v[k]));
  }
  return false;
}

// reference renders one case with json-e and describes the outcome as
// {result}, {error} (a JSON-e error, as the specification prints it) or
// {exception} (anything else: a JavaScript exception or a result JSON
// cannot represent).
function reference(c) {
  const template = sortKeys(c.template);
  const context = sortKeys(c.context || {});
  let result;
  try {
    result = jsone(template, context);
  } catch (err) {
    if (err instanceof JSONTemplateError) {
      return {error: err.toString()};
    }
    return {exception: String(err)};
  }
  if (!jsonSafe(result)) {
    return {exception: 'result is not JSON: ' + String(result)};
  }
  return {result: sortKeys(result)};
}

function sameOutcome(a, b) {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function main() {
  const names = new Set();
  const problems = [];
  const out = [];
  let deviations = 0;
  for (const c of cases) {
    if (names.has(c.name)) {
      problems.push(`duplicate case name: ${c.name}`);
    }
    names.add(c.name);
    // A JSON round trip rejects what a JSON file cannot hold.
    const template = JSON.parse(JSON.stringify(c.template));
    const context = JSON.parse(JSON.stringify(c.context || {}));
    const ref = reference({template, context});
    const entry = {name: c.name, context: sortKeys(context), template: sortKeys(template)};
    if (c.deviation) {
      const d = c.deviation;
      const ours = 'error' in d ? {error: d.error} : {result: d.result};
      if (!d.reason || !('error' in d || 'result' in d)) {
        problems.push(`${c.name}: a deviation needs a reason and our result or error`);
      } else if (sameOutcome(ours, ref)) {
        problems.push(`${c.name}: stale deviation, the reference answers the same: ${JSON.stringify(ref)}`);
      }
      Object.assign(entry, ours);
      entry.deviation = d.reason;
      entry.reference = ref;
      deviations++;
    } else if ('exception' in ref) {
      problems.push(`${c.name}: the reference gives no JSON-e answer (${ref.exception}); declare a deviation`);
      continue;
    } else {
      Object.assign(entry, ref);
    }
    out.push(entry);
  }
  // The benchmark pair is not generated, but its expected output must be
  // what the reference renders.
  const read = name => JSON.parse(fs.readFileSync(path.join(__dirname, '..', name), 'utf8'));
  const bench = reference({template: read('bench-template.json'), context: read('bench-context.json')});
  if (!sameOutcome(bench, {result: read('bench-expected.json')})) {
    problems.push('bench-expected.json is not what the reference renders from bench-template.json and bench-context.json');
  }
  if (problems.length > 0) {
    for (const p of problems) {
      console.error(p);
    }
    process.exit(1);
  }
  // One case per line keeps diffs of the generated file readable.
  const header = {
    source: 'generated by shared/jsone/testdata/gen/generate.js from cases.js; do not edit',
    reference: `npm json-e ${version}`,
    now: NOW,
  };
  const lines = out.map(e => '  ' + JSON.stringify(e));
  const text = '{\n' +
    Object.keys(header).map(k => `  ${JSON.stringify(k)}: ${JSON.stringify(header[k])},`).join('\n') +
    '\n  "cases": [\n' + lines.map(l => '  ' + l).join(',\n') + '\n  ]\n}\n';
  const target = path.join(__dirname, '..', 'corpus.json');
  fs.writeFileSync(target, text);
  console.log(`wrote ${out.length} cases (${deviations} deviations) to ${path.relative(process.cwd(), target)}`);
}

main();
