// What became of each fire: the tasks created (last fires, with how each
// ended) and the decision log, newest first, filterable by outcome and by
// how the task ended. Each decision opens to its payload, context, error
// and task outcome, with Replay where the API allows it.

import {h, announce, codeBlock, badge, time, uid} from "../dom.js";
import {api} from "../api.js";
import {taskRef, outcomeBadge, outcomeFacts, taskStates} from "../outcomes.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";

const outcomes = ["created", "declined", "filtered", "rejected", "paused", "render-error", "queue-error", "collapsed", "skipped", "late"];

// taskFilters filter created decisions by how their task ended; "unknown"
// is a task not resolved yet (or not heard of).
const taskFilters = [...taskStates, "unknown"];

// checkboxes builds a row of filter boxes over values, all checked, with
// All and None; changed runs after every change.
function checkboxes(prefix, values, shown, changed) {
  const boxes = values.map((v) => {
    const box = h("input", {type: "checkbox", id: `${prefix}-${v}`, value: v, checked: true});
    box.addEventListener("change", () => {
      if (box.checked) shown.add(v);
      else shown.delete(v);
      changed();
    });
    return h("span", {class: "check"}, box, h("label", {for: `${prefix}-${v}`}, v));
  });
  const setAll = (on) => {
    for (const v of values) {
      document.getElementById(`${prefix}-${v}`).checked = on;
      if (on) shown.add(v);
      else shown.delete(v);
    }
    changed();
  };
  return [boxes,
    h("button", {type: "button", class: "secondary small", onclick: () => setAll(true)}, "All"),
    h("button", {type: "button", class: "secondary small", onclick: () => setAll(false)}, "None")];
}

export async function render(panel, g, id, {signal}) {
  const shown = new Set(outcomes);
  const tasksShown = new Set(taskFilters);
  const timeline = h("ol", {class: "timeline", id: "decision-list"});
  const count = h("p", {class: "count", id: "decision-count", role: "status"});
  const more = h("button", {type: "button", class: "secondary", id: "more-decisions", hidden: true}, "Load older decisions");
  const refresh = h("button", {type: "button", class: "secondary", id: "refresh-decisions"}, "Refresh");
  const logSlot = h("div");
  const firesSlot = h("div", {id: "last-fires"}, h("p", null, "Loading…"));

  let decisions = [];
  let token = null;
  const applyFilter = () => {
    let n = 0;
    for (const li of timeline.children) {
      const byOutcome = shown.has(li.dataset.outcome) || (li.dataset.late === "true" && shown.has("late"));
      // The task filter narrows created decisions only: others made no task.
      const byTask = li.dataset.outcome !== "created" || tasksShown.has(li.dataset.taskState);
      const hit = byOutcome && byTask;
      li.hidden = !hit;
      n += hit ? 1 : 0;
    }
    count.textContent = `${n} of ${decisions.length} decision${decisions.length === 1 ? "" : "s"} shown${token ? " (older ones not loaded yet)" : ""}`;
  };
  panel.replaceChildren(
    h("section", {"aria-labelledby": "fires-h"}, h("h2", {id: "fires-h"}, "Last fires"), firesSlot),
    h("section", {"aria-labelledby": "log-h"},
      h("div", {class: "page-head"}, h("h2", {id: "log-h"}, "Decision log"), refresh),
      h("fieldset", {class: "filters"}, h("legend", null, "Show outcomes"), checkboxes("outcome", outcomes, shown, applyFilter)),
      h("fieldset", {class: "filters", id: "task-filters"}, h("legend", null, "Of created tasks, show those that ended"),
        checkboxes("task", taskFilters, tasksShown, applyFilter)),
      count, logSlot, timeline, more));

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
  // The last fires show each task's outcome with its reason and time where
  // a loaded decision of the same task has them (listLastFires keeps
  // upstream's schema: the state only).
  const outcomeOf = (taskId) => decisions.find((d) => d.taskId === taskId && d.task)?.task;
  more.addEventListener("click", () => load(false));
  const both = async () => {
    const fires = loadFires(g, id, signal);
    await load(true);
    await showFires(firesSlot, await fires, outcomeOf);
  };
  refresh.addEventListener("click", async () => {
    await both();
    announce("Decision log refreshed");
  });
  await both();
}

// loadFires reads the newest fire records, or the error that stopped it.
function loadFires(g, id, signal) {
  return api.lastFires(g, id, {limit: 20}, {signal}).then((r) => ({fires: r.lastFires}), (err) => ({err}));
}

function showFires(slot, {fires, err}, outcomeOf) {
  if (err) {
    showError(slot, err, "Reading the last fires");
    return;
  }
  if (fires.length === 0) {
    slot.replaceChildren(h("p", null, "No task has been created yet."));
    return;
  }
  slot.replaceChildren(h("table", {class: "plain-table", id: "last-fires-table"},
    h("thead", null, h("tr", null, ["Time", "Result", "Task", "Task outcome", "Fired by", "Error"].map((c) => h("th", {scope: "col"}, c)))),
    h("tbody", null, fires.map((f) => {
      const known = taskStates.includes(f.taskState);
      const task = known ? outcomeOf(f.taskId) || {state: f.taskState} : null;
      return h("tr", {dataset: {taskId: f.taskId || "", taskState: f.taskState || ""}},
        h("td", null, time(f.taskCreateTime)),
        h("td", null, badge(f.result === "success" ? "created" : "error", f.result === "success" ? "created" : "queue-error")),
        h("td", null, taskRef(f.taskId) || "—"),
        h("td", null, task ? outcomeBadge(task) : f.taskState ? h("span", {class: "task-state"}, f.taskState) : "—"),
        h("td", null, f.firedBy),
        h("td", null, f.error ? h("code", null, f.error) : ""));
    }))));
}

// replayable is what the API allows: a schedule's decision, or one whose
// payload was kept.
const replayable = (d) => d.firedBy === "schedule" || (!d.payloadOmitted && d.payload !== undefined);

function decisionItem(g, id, d, onReplay) {
  const facts = [];
  const fact = (label, value) => {
    if (value !== undefined && value !== null && value !== "") facts.push(h("dt", null, label), h("dd", null, value));
  };
  fact("Decision", h("code", null, d.decisionId));
  fact("Fired by", d.firedBy);
  fact("Caller", d.clientId);
  fact("Task", taskRef(d.taskId));
  fact("Webhook", d.webhookScheme ? (d.webhookScheme === "token" ? "the trigger token route" : `signed webhook route, scheme ${d.webhookScheme}`) : null);
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
  if (d.task) body.push(h("h4", null, "Task outcome"), h("dl", {class: "facts task-facts"}, outcomeFacts(d.task)));
  else if (d.outcome === "created") body.push(h("p", {class: "hint"}, "The task's outcome is not known yet: it is still running, or Hookline has not heard."));
  if (d.error) body.push(h("h4", null, "Error"), codeBlock(d.error, "Error"));
  if (d.payloadOmitted) body.push(h("p", {class: "hint"}, "The payload was not kept: " + (d.payloadProblem || "over 256 KiB, or not JSON") + "."));
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
  const taskState = d.task?.state || "unknown";
  return h("li", {dataset: {outcome: d.outcome, late: String(!!d.late), decision: d.decisionId, taskState, backfill: String(!!d.backfill)},
    class: `decision outcome-${d.outcome}`},
    h("details", null,
      h("summary", null, time(d.time), " ", badge(d.outcome), d.late ? [" ", badge("late")] : null, d.backfill ? [" ", badge("backfill")] : null,
        ` ${d.firedBy}`, d.taskId ? [" → ", h("code", null, d.taskId)] : null,
        d.task ? [" ", outcomeBadge(d.task)] : null,
        d.reason ? h("span", {class: "why"}, ` — ${d.reason}`) : null),
      h("div", {class: "decision-body"}, body)));
}
