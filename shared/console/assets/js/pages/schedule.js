// A hook's schedule: its next fires as the server lists them (each slot in
// UTC and in the hook's zone, the jittered time it fires, and the slots
// skipped with the reason), the schedule settings (time zone, cron, at,
// start and end, exclusions, catch-up, jitter) with the server's errors at
// their fields, and backfill, confirmed first, continued while slots
// remain. Loaded only when a page shows a schedule.

import {h, field, announce, badge, dialog, ago, zoned, span, time, hookHref} from "../dom.js";
import {api} from "../api.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import {saveSettings, showProblems, clearProblems} from "../settings.js";
import {taskRef} from "../outcomes.js";

const sources = {schedule: "definition", cron: "settings cron", at: "one-time (at)"};

const reasons = {
  "exclusion": "excluded",
  "before-start": "before start",
  "after-end": "after end",
  "paused": "paused",
};

// listingView shows a schedule listing (GET .../schedule): fires and
// skipped slots in slot order, one row each.
export function listingView(listing) {
  const zone = listing.timeZone || "UTC";
  const local = zone !== "UTC";
  const rows = [
    ...listing.fires.map((f) => ({kind: "fire", ...f})),
    ...listing.skipped.map((s) => ({kind: "skipped", ...s})),
  ].sort((a, b) => Date.parse(a.slot) - Date.parse(b.slot));
  const facts = [`Time zone ${zone}`, `catch-up ${listing.catchUp}`, listing.jitter ? `jitter up to ${listing.jitter}` : "no jitter"];
  const out = [h("p", {class: "hint schedule-facts"}, facts.join(" · "))];
  if (listing.pause) {
    out.push(h("p", {class: "warning"}, badge("paused"), ` A ${listing.pause.level} pause is in force (${listing.pause.reason}, by ${listing.pause.by || "unknown"}): every slot is skipped while it lasts.`));
  }
  if (rows.length === 0) {
    out.push(h("p", {id: "schedule-none"}, "No fires ahead: the hook has no schedule, or it has ended."));
    return h("div", {class: "schedule-listing"}, out);
  }
  out.push(h("table", {class: "plain-table", id: "schedule-listing"},
    h("thead", null, h("tr", null,
      h("th", {scope: "col"}, "Slot (UTC)"),
      local ? h("th", {scope: "col"}, `Slot (${zone})`) : null,
      h("th", {scope: "col"}, "Fires"),
      h("th", {scope: "col"}, "From"))),
    h("tbody", null, rows.map((r) => {
      let fires;
      if (r.kind === "fire") {
        const jitter = (Date.parse(r.fireAt) - Date.parse(r.slot)) / 1000;
        fires = [zoned(r.fireAt, zone, r.fireAtLocal), jitter > 0 ? h("span", {class: "hint jitter"}, ` (+${span(jitter)} jitter)`) : null,
          h("span", {class: "hint"}, " · ", ago(r.fireAt))];
      } else {
        // The message names the reason and the exclusion: "excluded by
        // schedule.exclude 2026-12-25".
        fires = [badge(`skipped: ${reasons[r.reason] || r.reason}`, "skipped"), " ", r.message];
      }
      return h("tr", {class: r.kind, dataset: {kind: r.kind, slot: r.slot, reason: r.reason || null}},
        h("td", null, zoned(r.slot, "UTC", r.slot)),
        local ? h("td", {class: "slot-local"}, zoned(r.slot, zone, r.slotLocal)) : null,
        h("td", null, fires),
        h("td", null, sources[r.source] || r.source));
    }))));
  if (listing.skippedTruncated) out.push(h("p", {class: "hint"}, "More slots were skipped in this range than are listed."));
  return h("div", {class: "schedule-listing"}, out);
}

export async function render(panel, g, id, {signal}) {
  let def, settings;
  try {
    [def, settings] = await Promise.all([api.hook(g, id, {signal}), api.settings(g, id, {signal})]);
  } catch (err) {
    showError(panel, err, "Reading the hook");
    return;
  }
  const listing = listingSection(g, id, signal);
  panel.replaceChildren(
    listing,
    settingsSection(g, id, def, settings.schedule || {}, listing.refresh),
    backfillSection(g, id));
}

// listingSection lists the next fires from a chosen instant, a page at a
// time; "Later fires" goes on after the last slot listed.
function listingSection(g, id, signal) {
  const from = h("input", {id: "sched-from", autocomplete: "off", spellcheck: "false", placeholder: "now"});
  const count = h("input", {id: "sched-count", type: "number", min: "1", max: "1000", value: "10"});
  const view = h("div", {id: "schedule-view", "aria-live": "polite"}, h("p", {class: "loading"}, "Loading…"));
  const later = h("button", {type: "button", class: "secondary", id: "sched-later", hidden: true}, "Later fires");
  let last = null;
  const show = async (start) => {
    try {
      const listing = await api.schedule(g, id, {from: start || undefined, count: count.value || undefined}, {signal});
      view.replaceChildren(listingView(listing));
      const slots = [...listing.fires, ...listing.skipped].map((f) => Date.parse(f.slot));
      last = slots.length ? Math.max(...slots) : null;
      later.hidden = listing.fires.length === 0;
    } catch (err) {
      showError(view, err, "Reading the schedule");
    }
  };
  const form = h("form", {novalidate: true, class: "inline-form", id: "schedule-list-form"},
    h("div", {class: "inline"}, field("From (RFC 3339; empty for now)", from), field("How many fires", count),
      h("button", {type: "submit", id: "sched-show"}, "Show")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    show(from.value.trim());
  });
  later.addEventListener("click", () => {
    if (last === null) return;
    // Slots are whole seconds: the next page starts just after the last.
    from.value = new Date(last + 1000).toISOString().replace(".000Z", "Z");
    show(from.value);
  });
  const section = h("section", {"aria-labelledby": "sched-list-h"},
    h("div", {class: "page-head"}, h("h2", {id: "sched-list-h"}, "Next fires")),
    form, view, h("div", {class: "actions"}, later));
  section.refresh = () => show(from.value.trim());
  if (session.can(need.schedule(g, id))) show("");
  else view.replaceChildren(h("p", {class: "hint"}, `Needs ${session.missing(need.schedule(g, id)).join(", ")}`));
  return section;
}

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

// exclusionText writes an exclusion on one line: a date as is, a range as
// from/to (ISO 8601's interval notation).
const exclusionText = (x) => (typeof x === "string" ? x : `${x.from}/${x.to}`);

function parseExclusion(line) {
  const i = line.indexOf("/");
  return i < 0 ? line : {from: line.slice(0, i).trim(), to: line.slice(i + 1).trim()};
}

// settingsSection edits the schedule section of the settings; onSaved
// shows the listing again.
function settingsSection(g, id, def, sched, onSaved) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zoneList = h("datalist", {id: "sched-zones"}, ["UTC", ...zones.filter((z) => z !== "UTC")].map((z) => h("option", {value: z})));
  const tz = h("input", {id: "sched-tz", list: "sched-zones", autocomplete: "off", spellcheck: "false", placeholder: "UTC"});
  const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const useMine = h("button", {type: "button", class: "secondary small", onclick: () => { tz.value = mine; tz.focus(); }}, `Use ${mine}`);
  const cron = h("textarea", {id: "sched-cron", class: "mono", rows: "3", spellcheck: "false"});
  const at = h("textarea", {id: "sched-at", class: "mono", rows: "3", spellcheck: "false"});
  const start = h("input", {id: "sched-start", class: "mono", autocomplete: "off", spellcheck: "false", placeholder: "2026-06-01T00:00:00+02:00"});
  const end = h("input", {id: "sched-end", class: "mono", autocomplete: "off", spellcheck: "false", placeholder: "2026-09-01T00:00:00+02:00"});
  const exclude = h("textarea", {id: "sched-exclude", class: "mono", rows: "3", spellcheck: "false"});
  const catchUp = h("select", {id: "sched-catchup"},
    [["", "default: oldest"], ["oldest", "oldest: the oldest missed slot fires"], ["none", "none: no missed slot fires"],
      ["latest", "latest: the newest missed slot fires"], ["all", "all: each missed slot fires, in order"]].map(([v, l]) => h("option", {value: v}, l)));
  const maxCatchUp = h("input", {id: "sched-maxcatchup", type: "number", min: "1", max: "1000", placeholder: "10"});
  const maxAge = h("input", {id: "sched-maxage", autocomplete: "off", spellcheck: "false", placeholder: "6h"});
  const jitter = h("input", {id: "sched-jitter", autocomplete: "off", spellcheck: "false", placeholder: "10m"});
  const rows = new Map([
    ["schedule.timeZone", field("Time zone", tz, "An IANA name (Europe/Berlin); UTC when empty. The definition's schedule follows it too. A time skipped by a DST change fires when the clocks jump; a repeated one fires once.")],
    ["schedule.cron", field("Standard cron patterns, one per line", cron, "5 fields, minute first, as POSIX cron and GitHub Actions write them: 30 9 * * 1-5.")],
    ["schedule.at", field("One-time fires, one per line", at, "RFC 3339 instants with an offset: 2026-12-24T18:00:00+01:00.")],
    ["schedule.start", field("Start (no slot before)", start, "RFC 3339, optional.")],
    ["schedule.end", field("End (no slot at or after)", end, "RFC 3339, optional.")],
    ["schedule.exclude", field("Exclusions, one per line", exclude, "A date (2026-12-25: the whole day in the hook's zone), or a range from/to: 2026-12-31T18:00/2027-01-02. Excluded slots are skipped decisions.")],
    ["schedule.catchUp", field("Catch-up after downtime", catchUp, "What fires of the slots missed while the scheduler was down; the rest are collapsed decisions.")],
    ["schedule.maxCatchUp", field("At most this many missed slots fire", maxCatchUp, "With catch-up all; 10 when empty.")],
    ["schedule.maxAge", field("Latest a missed slot may still fire", maxAge, "A Go duration (6h, 90m); no limit when empty.")],
    ["schedule.jitter", field("Jitter", jitter, "Spread each fire over up to this long after its slot (a Go duration up to 1h: 90s, 10m). The offset is fixed per slot, and the task's now and taskId stay the slot's.")],
  ]);
  // The zone's row holds a button that fills in the browser's own zone.
  const tzWrap = h("div", {class: "inline"});
  tz.replaceWith(tzWrap);
  tzWrap.append(tz, useMine);
  const fill = (s) => {
    tz.value = s.timeZone || "";
    cron.value = (s.cron || []).join("\n");
    at.value = (s.at || []).join("\n");
    start.value = s.start || "";
    end.value = s.end || "";
    exclude.value = (s.exclude || []).map(exclusionText).join("\n");
    catchUp.value = s.catchUp || "";
    maxCatchUp.value = s.maxCatchUp ?? "";
    maxAge.value = s.maxAge || "";
    jitter.value = s.jitter || "";
    follow();
  };
  const follow = () => {
    rows.get("schedule.maxCatchUp").hidden = catchUp.value !== "all";
    rows.get("schedule.maxAge").hidden = catchUp.value === "none";
  };
  catchUp.addEventListener("change", follow);
  fill(sched);
  const collect = () => {
    const s = {};
    if (tz.value.trim()) s.timeZone = tz.value.trim();
    if (lines(cron.value).length) s.cron = lines(cron.value);
    if (lines(at.value).length) s.at = lines(at.value);
    if (start.value.trim()) s.start = start.value.trim();
    if (end.value.trim()) s.end = end.value.trim();
    if (lines(exclude.value).length) s.exclude = lines(exclude.value).map(parseExclusion);
    if (catchUp.value) s.catchUp = catchUp.value;
    if (catchUp.value === "all" && maxCatchUp.value !== "") s.maxCatchUp = Number(maxCatchUp.value);
    if (catchUp.value !== "none" && maxAge.value.trim()) s.maxAge = maxAge.value.trim();
    if (jitter.value.trim()) s.jitter = jitter.value.trim();
    return s;
  };
  const saveBtn = h("button", {type: "submit", id: "save-schedule"}, "Save schedule");
  const resetBtn = h("button", {type: "button", class: "secondary", id: "reset-schedule"}, "Schedule as upstream does");
  const notes = [guard(saveBtn, need.updateSettings(g, id)), guard(resetBtn, need.updateSettings(g, id))];
  const out = h("div", {id: "schedule-result"});
  const save = async (schedule, what) => {
    clearProblems(rows);
    saveBtn.disabled = resetBtn.disabled = true;
    try {
      const saved = await saveSettings(g, id, {schedule});
      fill(saved.schedule || {});
      out.replaceChildren(h("p", {class: "success", role: "status"}, what, " The next fires above follow it."));
      announce(what);
      onSaved();
    } catch (err) {
      showProblems(out, err, "Saving the schedule", rows, (key, rest) => `line ${Number(rest.split(".")[0]) + 1}`);
    } finally {
      saveBtn.disabled = resetBtn.disabled = false;
    }
  };
  const form = h("form", {novalidate: true, id: "schedule-form"},
    h("p", null, "The definition's schedule: ", def.schedule?.length
      ? def.schedule.map((c, i) => [i ? ", " : "", h("code", null, c)])
      : "none", ". It stays as upstream clients wrote it (", h("a", {href: hookHref(g, id, "edit")}, "edit it"),
    "); the settings below change how its slots are computed and fired, and may add their own."),
    zoneList,
    [...rows.values()],
    h("div", {class: "actions"}, saveBtn, resetBtn, notes), out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const s = collect();
    save(Object.keys(s).length ? s : undefined, Object.keys(s).length ? "Schedule saved." : "Schedule settings removed: the hook is scheduled as upstream does.");
  });
  resetBtn.addEventListener("click", async () => {
    const ok = await dialog(`Schedule ${g}/${id} as upstream does?`,
      h("p", null, "This removes the schedule settings: the definition's schedule fires in UTC, the oldest missed slot after downtime, without exclusions or jitter."),
      [{label: "Remove the schedule settings", value: "remove", class: "danger"}, {label: "Cancel", value: "", class: "secondary"}]);
    if (ok === "remove") save(undefined, "Schedule settings removed: the hook is scheduled as upstream does.");
  });
  return h("section", {class: "card", "aria-labelledby": "sched-set-h"}, h("h2", {id: "sched-set-h"}, "Schedule settings"), form);
}

// isoSeconds writes an instant as RFC 3339 in UTC, to the second.
const isoSeconds = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

// backfillSection fires the slots of a past range, after a confirmation
// that names the hook and the range, and goes on from where a call stopped
// while slots remain.
function backfillSection(g, id) {
  const now = Date.now();
  const from = h("input", {id: "bf-from", class: "mono", autocomplete: "off", spellcheck: "false", value: isoSeconds(now - 864e5)});
  const to = h("input", {id: "bf-to", class: "mono", autocomplete: "off", spellcheck: "false", value: isoSeconds(now)});
  const max = h("input", {id: "bf-max", type: "number", min: "1", max: "1000", value: "100"});
  const rows = new Map([
    ["from", field("From (RFC 3339, included)", from)],
    ["to", field("To (RFC 3339, excluded)", to, "Slots not before now are left to the scheduler.")],
    ["max", field("At most this many slots per call", max, "1 to 1000. Where a call stops, you can continue.")],
  ]);
  const runBtn = h("button", {type: "submit", id: "backfill", class: "danger"}, "Backfill…");
  const note = guard(runBtn, need.backfill(g, id));
  const summary = h("div", {id: "backfill-summary", "aria-live": "polite"});
  const tbody = h("tbody");
  const table = h("table", {class: "plain-table", id: "backfill-result", hidden: true},
    h("thead", null, h("tr", null, ["Slot", "Outcome", "Task", "Note"].map((c) => h("th", {scope: "col"}, c)))), tbody);
  const more = h("div", {class: "actions"});
  const counts = {};
  let range = null;
  const send = async (start) => {
    runBtn.disabled = true;
    more.replaceChildren();
    try {
      const res = await api.backfill(g, id, {from: start, to: range.to, max: range.max});
      for (const s of res.slots) {
        counts[s.outcome] = (counts[s.outcome] || 0) + 1;
        tbody.append(h("tr", {dataset: {outcome: s.outcome}},
          h("td", null, time(s.slot)), h("td", null, badge(s.outcome)), h("td", null, taskRef(s.taskId) || "—"),
          h("td", null, s.error ? h("code", null, s.error) : s.exclusion ? `excluded by ${s.exclusion}` : "")));
      }
      table.hidden = tbody.children.length === 0;
      const tally = Object.entries(counts).map(([o, n]) => `${n} ${o}`).join(", ") || "no slot in the range";
      summary.replaceChildren(h("p", {class: "success"}, `Backfilled ${g}/${id} from `, time(range.from), " to ", time(res.to), `: ${tally}.`));
      announce(`Backfill: ${tally}${res.continueFrom ? "; more slots remain" : ""}`);
      if (res.continueFrom) {
        const next = h("button", {type: "button", id: "backfill-continue"}, "Continue from ", time(res.continueFrom));
        next.addEventListener("click", () => send(res.continueFrom));
        more.replaceChildren(h("p", null, `This call stopped after ${res.slots.length} slot${res.slots.length === 1 ? "" : "s"}; slots remain in the range.`), next);
        next.focus();
      }
    } catch (err) {
      showProblems(summary, err, "Backfilling", rows);
    } finally {
      runBtn.disabled = false;
    }
  };
  const form = h("form", {novalidate: true, id: "backfill-form"},
    h("p", null, "Fire each slot of the schedule in a past range once, with the slot's own taskId: a slot that already fired (by the scheduler or an earlier backfill) creates nothing new. Pauses, filters and exclusions apply, and each slot gets a decision marked ", h("code", null, "backfill"), "."),
    h("div", {class: "inline"}, rows.get("from"), rows.get("to"), rows.get("max")),
    h("div", {class: "actions"}, runBtn, note), summary, table, more);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearProblems(rows);
    const f = from.value.trim(), t = to.value.trim(), m = Number(max.value || 100);
    let bad = false;
    for (const [key, v] of [["from", f], ["to", t]]) {
      if (Number.isNaN(Date.parse(v)) || !/(Z|[+-]\d\d:\d\d)$/i.test(v)) {
        rows.get(key).setError("An RFC 3339 instant with its offset, such as 2026-12-01T00:00:00Z.");
        bad = true;
      }
    }
    if (!Number.isInteger(m) || m < 1 || m > 1000) {
      rows.get("max").setError("A whole number from 1 to 1000.");
      bad = true;
    }
    if (bad) {
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    const ok = await dialog(`Backfill ${g}/${id}?`,
      h("div", null,
        h("p", null, "Fire every slot of ", h("strong", null, `${g}/${id}`), " from ", time(f), " up to ", time(t), `, at most ${m} in this call.`),
        h("p", null, "Each slot that has not fired yet creates a task now. This cannot be undone.")),
      [{label: "Backfill", value: "backfill", class: "danger"}, {label: "Cancel", value: "", class: "secondary"}]);
    if (ok !== "backfill") return;
    range = {from: f, to: t, max: m};
    for (const k of Object.keys(counts)) delete counts[k];
    tbody.replaceChildren();
    send(f);
  });
  return h("section", {class: "card", "aria-labelledby": "bf-h"}, h("h2", {id: "bf-h"}, "Backfill"), form);
}
