// Who hears of a hook's events: the notify settings (targets, each with
// the events it hears of and its rate limit; webhook secrets go in and
// only their fingerprints come out), and the notifications sent, with
// what became of each. Loaded only when the tab is shown.

import {h, field, announce, badge, dialog, time, ago, uid} from "../dom.js";
import {api} from "../api.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import {saveSettings, showProblems, clearProblems} from "../settings.js";
import {taskRef, outcomeBadge} from "../outcomes.js";

const events = [
  ["fire-error", "a fire did not create its task"],
  ["task-completed", "a task completed"],
  ["task-failed", "a task failed"],
  ["task-exception", "a task ended in an exception"],
  ["slot-missed", "missed schedule slots were collapsed"],
  ["slot-late", "a scheduled fire came late"],
  ["hook-paused", "the hook was paused"],
  ["hook-resumed", "the hook was resumed"],
  ["webhook-signature-failures", "the signed webhook route refused many deliveries"],
];

// types: each target type, the property naming its destination, how to
// ask for it, and the scope Hookline's own Taskcluster client needs.
const types = {
  "email": {key: "address", label: "Email address", hint: "Sent by Hookline: SES on AWS, the outbox file under hookline serve."},
  "taskcluster-email": {key: "address", label: "Email address", hint: "Sent by the Taskcluster deployment's notify service.", scope: (v) => `notify:email:${v}`},
  "taskcluster-matrix": {key: "roomId", label: "Matrix room ID", hint: "Like !abcdef:example.com.", scope: (v) => `notify:matrix-room:${v}`},
  "taskcluster-slack": {key: "channelId", label: "Slack channel ID", hint: "Like C0123ABCD.", scope: (v) => `notify:slack-channel:${v}`},
  "webhook": {key: "url", label: "URL", hint: "https:// (http:// to localhost only). Each POST is signed with the secret: X-Hookline-Signature over the timestamp and body."},
};

export async function render(panel, g, id, {signal}) {
  const listSection = notificationsSection(g, id, signal);
  panel.replaceChildren(h("p", {class: "loading"}, "Loading…"));
  let settings;
  try {
    settings = await api.settings(g, id, {signal});
  } catch (err) {
    showError(panel, err, "Reading the settings");
    return;
  }
  panel.replaceChildren(notifyEditor(g, id, settings.notify), listSection);
  listSection.load(true);
}

// notifyEditor edits the notify section: up to 10 targets, and the
// threshold of webhook signature failures.
function notifyEditor(g, id, notify) {
  const list = h("div", {id: "notify-targets"});
  const targets = [];
  const problemRows = new Map();
  const renumber = () => targets.forEach((t, i) => t.setIndex(i));
  const addTarget = (t) => {
    const target = targetEditor(t, () => {
      targets.splice(targets.indexOf(target), 1);
      target.el.remove();
      renumber();
      addBtn.focus();
    });
    targets.push(target);
    list.append(target.el);
    renumber();
    return target;
  };
  const addBtn = h("button", {type: "button", class: "secondary", id: "add-target", onclick: () => {
    if (targets.length >= 10) return announce("A hook has at most 10 notify targets");
    addTarget({type: "email", events: ["fire-error", "task-failed", "task-exception"]}).focus();
  }}, "Add target");
  for (const t of notify?.targets || []) addTarget(t);
  const sfMax = h("input", {id: "notify-sf-max", type: "number", min: "1", max: "100000", placeholder: "10"});
  const sfWindow = h("input", {id: "notify-sf-window", type: "number", min: "60", max: "86400", placeholder: "600"});
  sfMax.value = notify?.signatureFailures?.max ?? "";
  sfWindow.value = notify?.signatureFailures?.windowSeconds ?? "";
  const sfErr = h("p", {class: "field-error", hidden: true});
  const sfRow = h("div", null, h("div", {class: "inline"}, field("Signature failures before an event", sfMax), field("Within (seconds)", sfWindow)), sfErr);
  sfRow.setError = (msg) => {
    sfErr.textContent = msg || "";
    sfErr.hidden = !msg;
  };
  const saveBtn = h("button", {type: "submit", id: "save-notify"}, "Save notifications");
  const note = guard(saveBtn, need.updateSettings(g, id));
  const out = h("div", {id: "notify-result"});
  const form = h("form", {novalidate: true, id: "notify-form"},
    h("p", null, "Each target hears of the events ticked for it, each event once, and of one kind of event at most its hourly limit (what the limit holds back comes as one digest when the hour is over). ",
      "Without targets the hook keeps upstream's behaviour: a scheduled fire that fails emails the owner when the definition's ", h("code", null, "emailOnError"), " is set."),
    list, h("div", {class: "actions"}, addBtn),
    h("details", {class: "sf"}, h("summary", null, "Webhook signature failures"),
      h("p", {class: "hint"}, "A webhook-signature-failures event is published when the signed webhook route refuses more than this many deliveries within the window (default 10 in 600 s)."),
      sfRow),
    h("div", {class: "actions"}, saveBtn, note), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    problemRows.clear();
    targets.forEach((t, i) => t.rows.forEach((row, key) => problemRows.set(`notify.targets.${i}${key ? "." + key : ""}`, row)));
    problemRows.set("notify.signatureFailures", sfRow);
    clearProblems(problemRows);
    const next = {targets: targets.map((t) => t.value())};
    if (sfMax.value !== "" || sfWindow.value !== "") {
      next.signatureFailures = {max: Number(sfMax.value || 10), windowSeconds: Number(sfWindow.value || 600)};
    }
    if (next.targets.length === 0 && notify?.targets?.length) {
      const ok = await dialog(`Remove every notify target of ${g}/${id}?`,
        h("p", null, "No one will hear of this hook's events; a failed scheduled fire emails the owner again, as upstream does, when emailOnError is set."),
        [{label: "Remove them", value: "remove", class: "danger"}, {label: "Cancel", value: "", class: "secondary"}]);
      if (ok !== "remove") return;
    }
    saveBtn.disabled = true;
    try {
      const saved = await saveSettings(g, id, {notify: next.targets.length ? next : undefined});
      notify = saved.notify;
      // Secrets are write-only: what was typed goes, the fingerprints stay.
      const back = saved.notify?.targets || [];
      targets.forEach((t, i) => t.saved(back[i]));
      const n = back.length;
      out.replaceChildren(h("p", {class: "success", role: "status"}, n ? `Saved ${n} notify target${n === 1 ? "" : "s"}.` : "Saved: no notify targets; the hook behaves as upstream does."));
      announce(n ? `Saved ${n} notify targets` : "Notify targets removed");
    } catch (err) {
      showProblems(out, err, "Saving the notify settings", problemRows);
    } finally {
      saveBtn.disabled = false;
    }
  });
  return h("section", {class: "card", "aria-labelledby": "notify-h"}, h("h2", {id: "notify-h"}, "Notify"), form);
}

// targetEditor is one target: its type, destination, secret (webhooks),
// events and hourly limit. rows maps the target's properties to the field
// rows where the server's problems go ("" is the target as a whole).
function targetEditor(t, remove) {
  const type = h("select", {name: "type"}, Object.keys(types).map((k) => h("option", {value: k}, k)));
  type.value = types[t.type] ? t.type : "email";
  const dest = h("input", {name: "destination", autocomplete: "off", spellcheck: "false"});
  dest.value = t[types[type.value].key] || "";
  const destRow = field("Address", dest);
  const destHint = h("p", {class: "hint"});
  destRow.append(destHint);
  const secret = h("input", {name: "secret", type: "password", autocomplete: "new-password", spellcheck: "false", minlength: "16", maxlength: "256"});
  const secretRow = field("Signing secret", secret);
  const print = h("p", {class: "hint secret-fingerprint"});
  secretRow.append(print);
  let fingerprint = t.secretFingerprint || "";
  const showPrint = () => {
    print.replaceChildren(...(fingerprint
      ? ["Set: ", h("code", {class: "fingerprint"}, fingerprint), ". Leave empty to keep it; the secret is never shown again."]
      : ["16 to 256 characters; required for a new webhook target."]));
  };
  const boxes = events.map(([e, what]) => {
    const box = h("input", {type: "checkbox", name: "event", value: e, id: uid("ev"), checked: (t.events || []).includes(e)});
    return h("span", {class: "check", title: what}, box, h("label", {for: box.id}, e));
  });
  const eventsSet = h("fieldset", {class: "events"}, h("legend", null, "Events"), boxes);
  const eventsErr = h("p", {class: "field-error", hidden: true});
  eventsSet.append(eventsErr);
  eventsSet.setError = (msg) => {
    eventsErr.textContent = msg || "";
    eventsErr.hidden = !msg;
  };
  const perHour = h("input", {name: "maxPerHour", type: "number", min: "1", max: "60", placeholder: "1"});
  perHour.value = t.maxPerHour ?? "";
  const perHourRow = field("At most per hour, per kind of event", perHour);
  const scopeNote = h("p", {class: "hint scope-needed"});
  const legend = h("legend");
  const whole = h("p", {class: "field-error", hidden: true});
  const removeBtn = h("button", {type: "button", class: "secondary small", onclick: remove}, "Remove target");
  const typeRow = field("Type", type);
  const el = h("fieldset", {class: "notify-target", dataset: {type: type.value}}, legend, whole,
    h("div", {class: "inline"}, typeRow, destRow), scopeNote, secretRow, eventsSet, perHourRow, removeBtn);
  el.setError = (msg) => {
    whole.textContent = msg || "";
    whole.hidden = !msg;
  };
  const follow = () => {
    const ty = types[type.value];
    el.dataset.type = type.value;
    destRow.querySelector("label").textContent = ty.label;
    destHint.textContent = ty.hint;
    dest.type = ty.key === "address" ? "email" : ty.key === "url" ? "url" : "text";
    secretRow.hidden = type.value !== "webhook";
    const v = dest.value.trim();
    scopeNote.textContent = ty.scope ? `Hookline's Taskcluster client needs ${ty.scope(v || "…")} to send this.` : "";
    scopeNote.hidden = !ty.scope;
    showPrint();
  };
  type.addEventListener("change", follow);
  dest.addEventListener("input", follow);
  follow();
  const rows = new Map([["", el], ["type", typeRow], ["address", destRow], ["roomId", destRow], ["channelId", destRow], ["url", destRow],
    ["secret", secretRow], ["events", eventsSet], ["maxPerHour", perHourRow]]);
  return {
    el, rows,
    setIndex(i) {
      legend.textContent = `Target ${i + 1}`;
      removeBtn.textContent = `Remove target ${i + 1}`;
    },
    focus: () => type.focus(),
    value() {
      const out = {type: type.value, events: boxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value)};
      out[types[type.value].key] = dest.value.trim();
      if (type.value === "webhook" && secret.value) out.secret = secret.value;
      if (perHour.value !== "") out.maxPerHour = Number(perHour.value);
      return out;
    },
    saved(back) {
      secret.value = "";
      fingerprint = back?.secretFingerprint || "";
      showPrint();
    },
  };
}

// notificationsSection lists the notifications sent, newest first.
function notificationsSection(g, id, signal) {
  const tbody = h("tbody");
  const table = h("table", {class: "plain-table", id: "notification-list", hidden: true},
    h("thead", null, h("tr", null, ["Created", "Event", "Target", "Status", "Details"].map((c) => h("th", {scope: "col"}, c)))), tbody);
  const slot = h("div", {id: "notifications-slot"});
  const more = h("button", {type: "button", class: "secondary", id: "more-notifications", hidden: true}, "Load older notifications");
  const refresh = h("button", {type: "button", class: "secondary", id: "refresh-notifications"}, "Refresh");
  let token = null;
  const load = async (reset) => {
    if (!session.can(need.notifications(g, id))) {
      slot.replaceChildren(h("p", {class: "hint"}, `Needs ${session.missing(need.notifications(g, id)).join(", ")}`));
      return;
    }
    if (reset) {
      token = null;
      tbody.replaceChildren();
    }
    try {
      const page = await api.notifications(g, id, {limit: 50, continuationToken: token || undefined}, {signal});
      token = page.continuationToken || null;
      for (const n of page.notifications) tbody.append(notificationRow(n));
      table.hidden = tbody.children.length === 0;
      more.hidden = !token;
      slot.replaceChildren(tbody.children.length ? "" : h("p", null, "No notifications yet."));
    } catch (err) {
      showError(slot, err, "Reading the notifications");
    }
  };
  more.addEventListener("click", () => load(false));
  refresh.addEventListener("click", async () => {
    await load(true);
    announce("Notifications refreshed");
  });
  const section = h("section", {"aria-labelledby": "notifications-h"},
    h("div", {class: "page-head"}, h("h2", {id: "notifications-h"}, "Notifications sent"), refresh),
    slot, table, h("div", {class: "actions"}, more));
  section.load = load;
  return section;
}

const statusKind = {pending: "warning", delivered: "created", undeliverable: "error"};

function notificationRow(n) {
  const ev = n.event || {};
  const details = [];
  if (n.status === "delivered" && n.delivered) details.push(h("div", null, "Delivered ", time(n.delivered)));
  if (n.lastError) details.push(h("div", null, h("code", {class: "last-error"}, n.lastError)));
  if (n.suppressed?.count) details.push(h("div", null, `The hourly limit held back ${n.suppressed.count} more: they come as one digest.`));
  if (n.digestOf) details.push(h("div", {class: "hint"}, "A digest of what the hourly limit held back."));
  if (ev.taskId) details.push(h("div", null, "Task ", taskRef(ev.taskId), ev.task ? [" ", outcomeBadge(ev.task)] : null));
  return h("tr", {dataset: {status: n.status, kind: ev.kind, target: n.target?.type}},
    h("td", null, ago(n.created)),
    h("td", null, badge(ev.kind, ev.kind?.startsWith("task-") ? ev.kind.slice(5) : "event"), " ", ev.summary || ""),
    h("td", null, h("span", {class: "hint"}, `${n.target?.type}: `), h("code", null, n.target?.destination || "")),
    h("td", null, badge(n.status, statusKind[n.status]), h("span", {class: "hint"}, ` ${n.attempts} attempt${n.attempts === 1 ? "" : "s"}`)),
    h("td", null, details));
}
