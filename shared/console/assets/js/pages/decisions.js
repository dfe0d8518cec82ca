// What became of each fire: the tasks created (last fires, with their
// states) and the decision log, newest first, filterable by outcome. Each
// decision opens to its payload, context and error, with Replay where the
// API allows it.

import {h, announce, codeBlock, badge, time, uid} from "../dom.js";
import {api, taskURL} from "../api.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";

const outcomes = ["created", "declined", "filtered", "rejected", "paused", "render-error", "queue-error", "collapsed", "skipped", "late"];

export async function render(panel, g, id, {signal}) {
  const shown = new Set(outcomes);
  const boxes = outcomes.map((o) => {
    const box = h("input", {type: "checkbox", id: `outcome-${o}`, value: o, checked: true});
    box.addEventListener("change", () => {
      if (box.checked) shown.add(o);
      else shown.delete(o);
      applyFilter();
    });
    return h("span", {class: "check"}, box, h("label", {for: `outcome-${o}`}, o));
  });
  const all = h("button", {type: "button", class: "secondary small", onclick: () => setAll(true)}, "All");
  const none = h("button", {type: "button", class: "secondary small", onclick: () => setAll(false)}, "None");
  const setAll = (on) => {
    for (const o of outcomes) {
      document.getElementById(`outcome-${o}`).checked = on;
      if (on) shown.add(o);
      else shown.delete(o);
    }
    applyFilter();
  };
  const timeline = h("ol", {class: "timeline", id: "decision-list"});
  const count = h("p", {class: "count", id: "decision-count", role: "status"});
  const more = h("button", {type: "button", class: "secondary", id: "more-decisions", hidden: true}, "Load older decisions");
  const refresh = h("button", {type: "button", class: "secondary", id: "refresh-decisions"}, "Refresh");
  const logSlot = h("div");
  const firesSlot = h("div", {id: "last-fires"}, h("p", null, "Loading…"));
  panel.replaceChildren(
    h("section", {"aria-labelledby": "fires-h"}, h("h2", {id: "fires-h"}, "Last fires"), firesSlot),
    h("section", {"aria-labelledby": "log-h"},
      h("div", {class: "page-head"}, h("h2", {id: "log-h"}, "Decision log"), refresh),
      h("fieldset", {class: "filters"}, h("legend", null, "Show outcomes"), boxes, all, none),
      count, logSlot, timeline, more));

  let decisions = [];
  let token = null;
  const applyFilter = () => {
    let n = 0;
    for (const li of timeline.children) {
      const hit = shown.has(li.dataset.outcome) || (li.dataset.late === "true" && shown.has("late"));
      li.hidden = !hit;
      n += hit ? 1 : 0;
    }
    count.textContent = `${n} of ${decisions.length} decision${decisions.length === 1 ? "" : "s"} shown${token ? " (older ones not loaded yet)" : ""}`;
  };
  const load = async (reset) => {
    if (reset) {
      decisions = [];
      token = null;
      timeline.replaceChildren();
    }
    try {
      const page = await api.decisions(g, id, {limit: 50, continuationToken: token || undefined}, {signal});
      decisions.push(...page.decisions);
      token = page.continuationToken || null;
      for (const d of page.decisions) timeline.append(decisionItem(g, id, d, (nd) => {
        decisions.unshift(nd);
        timeline.prepend(decisionItem(g, id, nd, null));
        applyFilter();
      }));
      more.hidden = !token;
      logSlot.replaceChildren();
      if (decisions.length === 0) logSlot.replaceChildren(h("p", null, "No decisions yet: nothing has tried to fire this hook (or the log is off)."));
      applyFilter();
    } catch (err) {
      showError(logSlot, err, "Reading the decision log");
    }
  };
  more.addEventListener("click", () => load(false));
  refresh.addEventListener("click", async () => {
    await Promise.all([load(true), loadFires(g, id, firesSlot, signal)]);
    announce("Decision log refreshed");
  });
  await Promise.all([load(true), loadFires(g, id, firesSlot, signal)]);
}

async function loadFires(g, id, slot, signal) {
  try {
    const r = await api.lastFires(g, id, {limit: 20}, {signal});
    if (r.lastFires.length === 0) {
      slot.replaceChildren(h("p", null, "No task has been created yet."));
      return;
    }
    slot.replaceChildren(h("table", {class: "plain-table"},
      h("thead", null, h("tr", null, ["Time", "Result", "Task", "Task state", "Fired by", "Error"].map((c) => h("th", {scope: "col"}, c)))),
      h("tbody", null, r.lastFires.map((f) => {
        const link = f.taskId && taskURL(f.taskId);
        return h("tr", null,
          h("td", null, time(f.taskCreateTime)),
          h("td", null, badge(f.result === "success" ? "created" : "error", f.result === "success" ? "created" : "queue-error")),
          h("td", null, f.taskId ? (link ? h("a", {href: link, class: "task"}, f.taskId) : h("code", null, f.taskId)) : "—"),
          h("td", null, f.taskState || "—"),
          h("td", null, f.firedBy),
          h("td", null, f.error ? h("code", null, f.error) : ""));
      }))));
  } catch (err) {
    showError(slot, err, "Reading the last fires");
  }
}

// replayable is what the API allows: a schedule's decision, or one whose
// payload was kept.
const replayable = (d) => d.firedBy === "schedule" || (!d.payloadOmitted && d.payload !== undefined);

function decisionItem(g, id, d, onReplay) {
  const link = d.taskId && taskURL(d.taskId);
  const facts = [];
  const fact = (label, value) => {
    if (value !== undefined && value !== null && value !== "") facts.push(h("dt", null, label), h("dd", null, value));
  };
  fact("Decision", h("code", null, d.decisionId));
  fact("Fired by", d.firedBy);
  fact("Caller", d.clientId);
  fact("Task", d.taskId ? (link ? h("a", {href: link, class: "task"}, d.taskId) : h("code", null, d.taskId)) : null);
  fact("Why", d.reason);
  fact("Filter", d.filter ? h("code", null, d.filter) : null);
  if (d.pause) fact("Pause", `${d.pause.level}: ${d.pause.reason} (by ${d.pause.by || "unknown"}, since ${new Date(d.pause.since).toLocaleString()})`);
  fact("Scheduled for", d.scheduledFor ? time(d.scheduledFor) : null);
  fact("Fires at", d.fireAt ? time(d.fireAt) : null);
  if (d.late) fact("Late", `${d.lateSeconds ?? "?"} s after its slot`);
  fact("Catch-up", d.catchUp);
  if (d.backfill) fact("Backfill", "fired by a backfill");
  fact("Excluded by", d.exclusion);
  fact("Task created", d.taskCreated ? time(d.taskCreated) : null);
  fact("Missed slots", d.missedSlots);
  if (d.pulse) fact("Pulse message", `${d.pulse.exchange} ${d.pulse.routingKey}`);
  fact("Replay of", d.replayOf ? h("code", null, d.replayOf) : null);
  if (d.willRetry) fact("Retry", "the same task will be sent again");
  const body = [h("dl", {class: "facts"}, facts)];
  if (d.error) body.push(h("h4", null, "Error"), codeBlock(d.error, "Error"));
  if (d.payloadOmitted) body.push(h("p", {class: "hint"}, "The payload was not kept (over 256 KiB, or not JSON)."));
  else if (d.payload !== undefined) body.push(h("h4", null, "Payload"), codeBlock(d.payload, "Payload"));
  if (d.context) body.push(h("h4", null, "Context"), codeBlock(d.context, "Context"));
  if (d.slots?.length) body.push(h("h4", null, "Missed slots"), h("ul", {class: "plain"}, d.slots.map((s) => h("li", null, time(s)))));
  const result = h("div", {class: "replay-result"});
  if (onReplay && replayable(d)) {
    const btn = h("button", {type: "button", class: "secondary replay", id: uid("replay")}, "Replay");
    const note = guard(btn, need.trigger(g, id));
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const nd = await api.replay(g, id, d.decisionId, crypto.randomUUID());
        result.replaceChildren(h("p", {class: "success"}, "Replayed: ", badge(nd.outcome), nd.taskId ? ` task ${nd.taskId}` : "", nd.reason ? ` (${nd.reason})` : ""));
        announce(`Replayed: ${nd.outcome}${nd.taskId ? " task " + nd.taskId : ""}`);
        onReplay(nd);
      } catch (err) {
        showError(result, err, "Replaying");
      } finally {
        btn.disabled = false;
      }
    });
    body.push(h("div", {class: "actions"}, btn, note), result);
  }
  return h("li", {dataset: {outcome: d.outcome, late: String(!!d.late), decision: d.decisionId}, class: `decision outcome-${d.outcome}`},
    h("details", null,
      h("summary", null, time(d.time), " ", badge(d.outcome), d.late ? [" ", badge("late")] : null, ` ${d.firedBy}`,
        d.taskId ? [" → ", h("code", null, d.taskId)] : null, d.reason ? h("span", {class: "why"}, ` — ${d.reason}`) : null),
      h("div", {class: "decision-body"}, body)));
}
