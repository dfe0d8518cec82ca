// A hook's pages: the overview (definition, schedule, bindings, status),
// and the tabs that edit, fire, inspect, schedule, notify and operate it.
// The schedule and notify tabs are modules of their own, loaded when
// first shown, so the first load does not carry them.

import {h, time, badge, codeBlock, hookHref} from "../dom.js";
import {api} from "../api.js";
import {session} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import * as editor from "./editor.js";
import * as fire from "./fire.js";
import * as decisions from "./decisions.js";
import * as operate from "./operate.js";
import {taskRef, outcomeBadge} from "../outcomes.js";

const tabs = [
  ["", "Overview"],
  ["edit", "Edit"],
  ["fire", "Fire"],
  ["decisions", "Decisions"],
  ["schedule", "Schedule"],
  ["notify", "Notify"],
  ["operate", "Operate"],
];

export async function render(main, g, id, tab, ctx) {
  const title = tabs.find(([t]) => t === tab)[1];
  const panel = h("div", {class: "panel"});
  main.replaceChildren(
    h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/"}, "Hooks"), " / ", g, " / "),
    h("h1", null, id, h("span", {class: "sub"}, ` in ${g}`), tab ? h("span", {class: "sub"}, ` · ${title}`) : null),
    h("nav", {class: "tabs", "aria-label": "Hook"}, h("ul", null, tabs.map(([t, label]) =>
      h("li", null, h("a", {href: hookHref(g, id, t), "aria-current": t === tab ? "page" : null}, label))))),
    panel);
  switch (tab) {
    case "edit": return editor.renderEdit(panel, g, id, ctx);
    case "fire": return fire.render(panel, g, id, ctx);
    case "decisions": return decisions.render(panel, g, id, ctx);
    case "operate": return operate.renderHook(panel, g, id, ctx);
    case "schedule": return (await import("./schedule.js")).render(panel, g, id, ctx);
    case "notify": return (await import("./notify.js")).render(panel, g, id, ctx);
    default: return overview(panel, g, id, ctx);
  }
}

async function overview(panel, g, id, {signal}) {
  let def;
  try {
    def = await api.hook(g, id, {signal});
  } catch (err) {
    showError(panel, err, "Reading the hook");
    return;
  }
  const md = def.metadata || {};
  const statusSlot = h("dd", {id: "last-fire"}, "…");
  const outcomeSlot = h("dd", {id: "last-outcome"}, "…");
  const nextSlot = h("div", {id: "next-fires"}, h("p", {class: "loading"}, "…"));
  const pauseSlot = h("span");
  panel.replaceChildren(
    h("p", {class: "lead"}, md.name || id, " ", pauseSlot),
    md.description ? h("p", null, md.description) : null,
    h("dl", {class: "facts"},
      h("dt", null, "Owner"), h("dd", null, md.owner || "—"),
      h("dt", null, "Email on error"), h("dd", null, md.emailOnError ? "yes" : "no"),
      h("dt", null, "Last fire"), statusSlot,
      h("dt", null, "Last known outcome"), outcomeSlot,
      h("dt", null, "Schedule"), h("dd", null, def.schedule?.length
        ? h("ul", {class: "plain"}, def.schedule.map((s) => h("li", null, h("code", null, s))))
        : "none in the definition")),
    h("div", {class: "page-head"}, h("h2", null, "Next fires"), h("a", {href: hookHref(g, id, "schedule")}, "Schedule settings and backfill")),
    nextSlot,
    h("h2", null, "Bindings"),
    def.bindings?.length
      ? h("table", {class: "plain-table"}, h("thead", null, h("tr", null, h("th", {scope: "col"}, "Exchange"), h("th", {scope: "col"}, "Routing key pattern"))),
        h("tbody", null, def.bindings.map((b) => h("tr", null, h("td", null, h("code", null, b.exchange)), h("td", null, h("code", null, b.routingKeyPattern))))))
      : h("p", null, "No Pulse bindings."),
    h("h2", null, "Trigger schema"),
    codeBlock(def.triggerSchema, "Trigger schema"),
    h("h2", null, "Task template"),
    codeBlock(def.task, "Task template"));

  if (session.can(need.status(g, id))) {
    api.outcomeStatus(g, id, {signal}).then((st) => {
      const lf = st.lastFire || {};
      if (lf.result === "success") {
        statusSlot.replaceChildren(badge("created"), " ", time(lf.time), " ", taskRef(lf.taskId), " ", outcomeBadge(lf.task));
      } else if (lf.result === "error") {
        statusSlot.replaceChildren(badge("error", "queue-error"), " ", time(lf.time), " ", h("code", null, lf.error?.message || JSON.stringify(lf.error)));
      } else {
        statusSlot.replaceChildren("never fired");
      }
      const lo = st.lastOutcome;
      outcomeSlot.replaceChildren(lo
        ? h("span", null, outcomeBadge(lo.task), " ", taskRef(lo.taskId), ` fired by ${lo.firedBy} `, time(lo.time))
        : "none known yet");
    }, (err) => {
      statusSlot.replaceChildren(`unknown (${err.code || err.message})`);
      outcomeSlot.replaceChildren("unknown");
    });
  } else {
    const note = h("span", {class: "hint"}, `Needs ${session.missing(need.status(g, id)).join(", ")}`);
    statusSlot.replaceChildren(note);
    outcomeSlot.replaceChildren(note.cloneNode(true));
  }
  if (session.can(need.schedule(g, id))) {
    Promise.all([import("./schedule.js"), api.schedule(g, id, {count: 5}, {signal})]).then(([schedule, listing]) => {
      nextSlot.replaceChildren(schedule.listingView(listing));
    }, (err) => showError(nextSlot, err, "Reading the schedule"));
  } else {
    nextSlot.replaceChildren(h("p", {class: "hint"}, `Needs ${session.missing(need.schedule(g, id)).join(", ")}`));
  }
  if (session.can(need.getHook(g, id))) {
    api.getPause({hookGroupId: g, hookId: id}, {signal}).then((st) => {
      if (st.paused) pauseSlot.replaceChildren(badge("paused"), ` ${st.pause.reason} (by ${st.pause.by || "unknown"})`);
    }, () => {});
  }
}
