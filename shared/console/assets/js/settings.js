// A hook's settings (/api/hookline/v1/hooks/<g>/<h>/settings), shared by
// the pages that edit a part of them, and the server's refusals shown at
// the fields they name.

import {h} from "./dom.js";
import {api} from "./api.js";
import {showError} from "./errors.js";
import {schemaProblems} from "./json.js";

// saveSettings replaces the settings with change laid over what is stored
// now. A settings PUT replaces the whole document, so each editor sends
// only its own part over a fresh read: the GET reply may be sent back as
// is (omitted secrets are kept, read-only parts ignored), and saving one
// part never undoes another saved meanwhile (a pause, say). A part set to
// undefined is removed.
export async function saveSettings(g, id, change) {
  const current = await api.settings(g, id);
  const next = {...current, ...change};
  if (next.webhook && !change.webhook) {
    const {secretCount, secretFingerprints, ...rest} = next.webhook;
    next.webhook = rest;
  }
  return api.putSettings(g, id, next);
}

// problemsOf lists what a refused save says is wrong, each with the path
// it names in dotted form ("schedule.cron.0", "notify.targets.1.address"):
// the lines of an InputValidationError, or the one InputError, whose
// message starts with the path ("schedule.cron[0]: ...",
// "schedule.timeZone \"x\" is not ..."). Other errors have no problems.
export function problemsOf(err) {
  if (err?.name !== "ApiError" || err.status !== 400) return [];
  if (err.code === "InputValidationError") {
    return schemaProblems(err.detail).map((p) => ({path: p.path, message: p.message}));
  }
  if (err.code === "InputError") {
    const m = err.detail.match(/^([A-Za-z]+(?:\.[A-Za-z]+|\[\d+\])*)(?=[:\s])/);
    if (!m) return [{path: "", message: err.detail}];
    // Beside its field the message needs no path: "line 1: expected...".
    return [{path: m[1].replace(/\[(\d+)\]/g, ".$1"), message: err.detail, short: err.detail.slice(m[0].length).replace(/^:?\s*/, "")}];
  }
  return [];
}

// showProblems puts each problem of err beside the field it names, and
// lists them all in slot: rows
// maps a path ("schedule.cron") to a field row (dom.field); a problem goes
// to the row of the longest path that is a prefix of its own, and
// itemLabel, if given, names the list item a deeper path points at ("line
// 2: ..."). The summary lands in slot and takes focus. Anything that is
// not a field problem (a 403, a 500) is shown as errors.js shows it.
export function showProblems(slot, err, what, rows, itemLabel) {
  clearProblems(rows);
  const problems = problemsOf(err);
  if (problems.length === 0) {
    showError(slot, err, what);
    return;
  }
  const byRow = new Map();
  for (const p of problems) {
    let best = null;
    for (const key of rows.keys()) {
      if ((p.path === key || p.path.startsWith(key + ".")) && (!best || key.length > best.length)) best = key;
    }
    if (!best) continue;
    p.matched = true;
    const rest = p.path.slice(best.length + 1);
    const item = rest && itemLabel ? itemLabel(best, rest) : "";
    const text = (item ? `${item}: ` : "") + (p.short || p.message);
    if (!byRow.has(best)) byRow.set(best, []);
    if (!byRow.get(best).includes(text)) byRow.get(best).push(text);
  }
  for (const [key, texts] of byRow) rows.get(key).setError(texts.join(" · "));
  const box = h("div", {class: "error", role: "alert", tabindex: "-1"},
    h("p", null, h("strong", null, `${what} failed`), ": ", h("code", {class: "error-code"}, err.code),
      ` (HTTP ${err.status}). Fix ${problems.length === 1 ? "this problem" : `these ${problems.length} problems`} and save again:`),
    h("ul", {class: "problem-list"}, problems.map((p) => h("li", null, p.matched && err.code === "InputValidationError" ? [h("code", null, p.path), ": "] : null, p.message))));
  slot.replaceChildren(box);
  const first = [...byRow.keys()].map((k) => rows.get(k).querySelector("input, select, textarea")).find(Boolean);
  (first || box).focus();
  if (first) first.scrollIntoView({block: "center"});
}

// clearProblems empties the error slot of every row.
export function clearProblems(rows) {
  for (const row of rows.values()) row.setError("");
}
