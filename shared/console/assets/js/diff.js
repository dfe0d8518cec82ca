// A line diff, to show what a save changes before it is sent.

import {h} from "./dom.js";

// diffLines compares two texts line by line (longest common subsequence)
// and returns [{op: " " | "-" | "+", line}].
export function diffLines(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  // Trim the common head and tail first: edits are usually small.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const n = xs.length;
  const m = ys.length;
  const out = x.slice(0, head).map((line) => ({op: " ", line}));
  if (n * m > 4e6) {
    // Too large to align: show it as a replacement.
    out.push(...xs.map((line) => ({op: "-", line})), ...ys.map((line) => ({op: "+", line})));
  } else {
    const lcs = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i][j] = xs[i] === ys[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) {
        out.push({op: " ", line: xs[i]});
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // Removed lines come before the lines that replace them.
        out.push({op: "-", line: xs[i++]});
      } else {
        out.push({op: "+", line: ys[j++]});
      }
    }
  }
  out.push(...x.slice(x.length - tail).map((line) => ({op: " ", line})));
  return out;
}

// diffView shows the changed lines with three lines of context around
// each change; removed and added lines are marked in text, not only in
// colour.
export function diffView(a, b) {
  const ops = diffLines(a, b);
  const keep = new Set();
  ops.forEach((o, i) => {
    if (o.op !== " ") for (let k = i - 3; k <= i + 3; k++) keep.add(k);
  });
  const added = ops.filter((o) => o.op === "+").length;
  const removed = ops.filter((o) => o.op === "-").length;
  const rows = [];
  let skipped = false;
  ops.forEach((o, i) => {
    if (!keep.has(i)) {
      if (!skipped) rows.push(h("span", {class: "diff-skip"}, "  …\n"));
      skipped = true;
      return;
    }
    skipped = false;
    const cls = o.op === "+" ? "diff-add" : o.op === "-" ? "diff-del" : "diff-ctx";
    rows.push(h("span", {class: cls}, `${o.op} ${o.line}\n`));
  });
  return h("div", {class: "diff"},
    h("p", null, `${added} line${added === 1 ? "" : "s"} added, ${removed} removed.`),
    h("pre", {class: "code diff-lines", tabindex: "0", "aria-label": "Changes: lines starting with + are added, - removed"}, rows));
}
