// Operating hooks: pauses at every level (a hook, a group, everything with
// the kill switch), each with a required reason; a hook's filters, each
// tried against a sample payload through the check API as you type; its
// webhook settings, where secrets go in and only their fingerprints come
// out; and the cap on its history.

import {h, field, announce, badge, time, copyButton, debounce, uid} from "../dom.js";
import {api} from "../api.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import {parse} from "../json.js";
import {saveSettings, showProblems, clearProblems} from "../settings.js";

const pauseChanged = () => document.dispatchEvent(new Event("hookline:pause-changed"));

// pauseControl shows whether target is paused and pauses or resumes it.
function pauseControl(target, label, expr, signal) {
  const state = h("div", {class: "pause-state", "aria-live": "polite"}, "…");
  const reason = h("input", {id: uid("reason"), autocomplete: "off", maxlength: "1000"});
  const reasonRow = field("Reason (required)", reason, "Who finds it paused reads this: an incident, a ticket, a name.");
  const pauseBtn = h("button", {type: "submit", class: "danger"}, `Pause ${label}`);
  const resumeBtn = h("button", {type: "button"}, `Resume ${label}`);
  const notes = [guard(pauseBtn, expr), guard(resumeBtn, expr)];
  const out = h("div");
  let paused = false;
  const show = (st) => {
    paused = st.paused;
    state.replaceChildren(st.paused
      ? h("p", null, badge("paused"), ` since `, time(st.pause.since), ` by ${st.pause.by || "unknown"}: ${st.pause.reason}`)
      : h("p", null, badge("active", "created"), " not paused here"));
    resumeBtn.hidden = !paused;
    pauseBtn.textContent = paused ? "Update the reason" : `Pause ${label}`;
  };
  const load = () => api.getPause(target, {signal}).then(show, (err) => showError(state, err, "Reading the pause"));
  const form = h("form", {novalidate: true, class: "pause-form"}, state, reasonRow, h("div", {class: "actions"}, pauseBtn, resumeBtn, notes), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!reason.value.trim()) {
      reasonRow.setError("Give a reason: it is required, and whoever finds it paused reads it.");
      reason.focus();
      return;
    }
    reasonRow.setError("");
    pauseBtn.disabled = true;
    try {
      show(await api.pause(target, reason.value.trim()));
      out.replaceChildren();
      reason.value = "";
      announce(`Paused ${label}`);
      pauseChanged();
    } catch (err) {
      showError(out, err, `Pausing ${label}`);
    } finally {
      pauseBtn.disabled = false;
    }
  });
  resumeBtn.addEventListener("click", async () => {
    resumeBtn.disabled = true;
    try {
      show(await api.resume(target));
      out.replaceChildren();
      announce(`Resumed ${label}. Fires missed while paused are in the decision log, to replay.`);
      pauseChanged();
    } catch (err) {
      showError(out, err, `Resuming ${label}`);
    } finally {
      resumeBtn.disabled = false;
    }
  });
  load();
  return form;
}

export async function renderGlobal(main, {signal}) {
  const groupsSlot = h("div", null, h("p", null, "Loading…"));
  main.replaceChildren(h("h1", null, "Operate"),
    h("section", {"aria-labelledby": "ks-h", class: "card"}, h("h2", {id: "ks-h"}, "Kill switch"),
      h("p", null, "Stops every fire of every hook: schedules are skipped, triggers answer 409, Pulse messages are acknowledged without a task. Each stopped fire is a ", h("code", null, "paused"), " decision that can be replayed."),
      session.can(need.readKillSwitch())
        ? pauseControl({}, "every hook", need.killSwitch(), signal)
        : h("p", {class: "hint"}, `Reading it needs ${session.missing(need.readKillSwitch()).join(", ")}.`)),
    h("section", {"aria-labelledby": "groups-h"}, h("h2", {id: "groups-h"}, "Hook groups"), groupsSlot));
  try {
    const {groups} = await api.listGroups({signal});
    if (groups.length === 0) {
      groupsSlot.replaceChildren(h("p", null, "No hook groups."));
      return;
    }
    groupsSlot.replaceChildren(...groups.map((g) => h("section", {class: "card", "aria-labelledby": `pg-${g}`},
      h("h3", {id: `pg-${g}`}, g),
      session.can(need.readGroupPause(g)) ? pauseControl({hookGroupId: g}, `group ${g}`, need.pauseGroup(g), signal) : h("p", {class: "hint"}, `Needs ${need.readGroupPause(g)}`))));
  } catch (err) {
    showError(groupsSlot, err, "Listing hook groups");
  }
}

export async function renderHook(panel, g, id, {signal}) {
  const settingsSlot = h("div", null, h("p", null, "Loading…"));
  panel.replaceChildren(
    h("section", {"aria-labelledby": "pause-h", class: "card"}, h("h2", {id: "pause-h"}, "Pause"),
      h("p", null, "While paused, no fire of this hook creates a task; each is a ", h("code", null, "paused"), " decision you can replay after resuming. A group pause or the kill switch also stops it (see ", h("a", {href: "#/operate"}, "Operate"), ")."),
      pauseControl({hookGroupId: g, hookId: id}, "this hook", need.pauseHook(g, id), signal)),
    settingsSlot);
  let settings;
  try {
    settings = await api.settings(g, id, {signal});
  } catch (err) {
    showError(settingsSlot, err, "Reading the settings");
    return;
  }
  const putSettings = async (change) => {
    settings = await saveSettings(g, id, change);
    return settings;
  };
  settingsSlot.replaceChildren(filtersEditor(g, id, settings, putSettings, signal), webhookEditor(g, id, settings, putSettings),
    historyEditor(g, id, settings, putSettings));
}

// filtersEditor edits the JSON-e filters, evaluating each against a sample
// payload through the check API (the server's own evaluator) as you type.
function filtersEditor(g, id, settings, putSettings, signal) {
  const list = h("ol", {class: "filter-list", id: "filter-list"});
  const sample = h("textarea", {id: "filter-sample", class: "mono", rows: "4", spellcheck: "false"});
  sample.value = "{}";
  const sampleRow = field("Sample payload (JSON)", sample, "Each filter is evaluated against a fire of this payload, as triggerHook would see it.");
  const firedBy = h("select", {id: "filter-fired-by"}, ["triggerHook", "triggerHookWithToken", "pulseMessage", "schedule"].map((v) => h("option", {value: v}, v)));
  const saveBtn = h("button", {type: "submit", id: "save-filters"}, "Save filters");
  const saveNote = guard(saveBtn, need.updateSettings(g, id));
  const out = h("div");
  const rows = [];
  const evaluateAll = debounce(() => rows.forEach((r) => r.evaluate()), 300);
  const addRow = (text) => {
    const input = h("input", {class: "mono filter-input", autocomplete: "off", spellcheck: "false"});
    input.value = text;
    const verdict = h("p", {class: "verdict", "aria-live": "polite"});
    const row = {input, verdict};
    const fr = field(`Filter ${rows.length + 1}`, input);
    fr.append(verdict);
    let seq = 0;
    row.evaluate = async () => {
      const expr = input.value.trim();
      if (!expr) {
        verdict.textContent = "Empty: give a JSON-e expression, or remove it.";
        verdict.className = "verdict bad";
        return;
      }
      const r = parse(sample.value);
      if (r.error) {
        verdict.textContent = "Fix the sample payload to evaluate.";
        verdict.className = "verdict";
        return;
      }
      const mine = ++seq;
      verdict.textContent = "Evaluating…";
      verdict.className = "verdict";
      try {
        const rep = await api.check(g, id, {payload: r.value, firedBy: firedBy.value, filters: [expr]}, {signal});
        if (mine !== seq) return;
        const w = rep.warnings.find((x) => x.code === "filtered");
        verdict.textContent = w ? `✗ would not fire: ${w.message}` : "✓ true for this sample: the hook would fire";
        verdict.className = `verdict ${w ? "bad" : "ok"}`;
      } catch (err) {
        if (mine !== seq || err.name === "AbortError") return;
        verdict.textContent = `✗ ${err.code}: ${err.detail}`;
        verdict.className = "verdict bad";
      }
    };
    const remove = h("button", {type: "button", class: "secondary small", onclick: () => {
      rows.splice(rows.indexOf(row), 1);
      row.li.remove();
      rows.forEach((r, i) => { r.li.querySelector("label").textContent = `Filter ${i + 1}`; });
      addBtn.focus();
    }}, "Remove");
    row.li = h("li", null, fr, remove);
    input.addEventListener("input", debounce(row.evaluate, 300));
    rows.push(row);
    list.append(row.li);
    if (session.can(need.check(g, id))) row.evaluate();
    return row;
  };
  const addBtn = h("button", {type: "button", class: "secondary", id: "add-filter", onclick: () => {
    if (rows.length >= 10) return announce("A hook has at most 10 filters: combine them with &&");
    addRow("").input.focus();
  }}, "Add filter");
  sample.addEventListener("input", evaluateAll);
  firedBy.addEventListener("change", evaluateAll);
  (settings.filters || []).forEach((f) => addRow(f));
  const form = h("form", {novalidate: true, id: "filters-form"},
    h("p", null, "JSON-e expressions over ", h("code", null, "firedBy, taskId, now, payload, clientId, webhook"),
      ". The hook fires only when every filter is true; otherwise the fire is a ", h("code", null, "filtered"), " decision."),
    list, h("div", {class: "actions"}, addBtn), sampleRow, field("Fired by", firedBy),
    h("div", {class: "actions"}, saveBtn, saveNote), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    saveBtn.disabled = true;
    try {
      const saved = await putSettings({filters: rows.map((r) => r.input.value.trim())});
      out.replaceChildren(h("p", {class: "success"}, `Saved ${saved.filters?.length || 0} filter(s).`));
      announce("Filters saved");
    } catch (err) {
      showError(out, err, "Saving the filters");
    } finally {
      saveBtn.disabled = false;
    }
  });
  return h("section", {class: "card", "aria-labelledby": "filters-h"}, h("h2", {id: "filters-h"}, "Filters"), form);
}

// fingerprint is the server's: "sha256:" and 8 hex digits of the secret's
// SHA-256, to tell secrets apart without showing them.
async function fingerprint(secret) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  return "sha256:" + [...d.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// webhookEditor sets how the signed webhook route authenticates
// deliveries. Secrets are write-only: the page shows fingerprints, and the
// secret fields are emptied once saved.
function webhookEditor(g, id, settings, putSettings) {
  const url = api.webhookURL(g, id);
  const urlInput = h("input", {id: "webhook-url", readOnly: true, value: url, class: "mono"});
  const scheme = h("select", {id: "webhook-scheme"}, [["bearer", "bearer: the trigger token as Authorization: Bearer"], ["github", "github: X-Hub-Signature-256"], ["hookline", "hookline: X-Hookline-Signature with a timestamp"]]
    .map(([v, l]) => h("option", {value: v}, l)));
  scheme.value = settings.webhook?.scheme || "bearer";
  const prints = h("div", {id: "webhook-fingerprints", "aria-live": "polite"});
  const showPrints = (wh) => {
    const fps = wh?.secretFingerprints || [];
    prints.replaceChildren(fps.length
      ? h("ul", {class: "plain"}, fps.map((f, i) => h("li", null, h("code", {class: "fingerprint"}, f), i === 0 ? " (newest)" : "")))
      : h("p", {class: "hint"}, "No secret set."));
  };
  showPrints(settings.webhook);
  const secret = h("input", {id: "webhook-secret", type: "password", autocomplete: "new-password", spellcheck: "false", minlength: "16", maxlength: "256"});
  const secretRow = field("New secret", secret, "16 to 256 characters. Paste it into GitHub too; it is never shown again, only its fingerprint.");
  const reveal = h("input", {type: "checkbox", id: "webhook-reveal"});
  reveal.addEventListener("change", () => { secret.type = reveal.checked ? "text" : "password"; });
  const generate = h("button", {type: "button", class: "secondary", id: "webhook-generate", onclick: () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    secret.value = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    reveal.checked = true;
    secret.type = "text";
    secret.focus();
    secret.select();
    announce("Generated a secret: copy it into GitHub before saving");
  }}, "Generate a secret");
  const keepOld = h("input", {type: "checkbox", id: "webhook-keep-old"});
  const oldSecret = h("input", {id: "webhook-old-secret", type: "password", autocomplete: "off", spellcheck: "false"});
  const oldRow = field("Current secret (to keep it while you rotate)", oldSecret, "Secrets are write-only, so keeping the current one means typing it again; it is checked against its fingerprint here before anything is sent.");
  oldRow.hidden = true;
  keepOld.addEventListener("change", () => { oldRow.hidden = !keepOld.checked; });
  const headers = h("input", {id: "webhook-headers", autocomplete: "off", spellcheck: "false", value: (settings.webhook?.headers || []).join(", ")});
  const saveBtn = h("button", {type: "submit", id: "save-webhook"}, "Save webhook settings");
  const saveNote = guard(saveBtn, need.updateSettings(g, id));
  const out = h("div");
  const form = h("form", {novalidate: true, id: "webhook-form"},
    h("div", {class: "field"}, h("label", {for: "webhook-url"}, "Payload URL (for GitHub: Settings → Webhooks → Add webhook)"),
      h("div", {class: "inline"}, urlInput, copyButton("Copy URL", () => url))),
    field("Scheme", scheme),
    h("div", {class: "field"}, h("span", {class: "label"}, "Secrets set"), prints),
    secretRow,
    h("div", {class: "inline"}, generate, h("span", {class: "check"}, reveal, h("label", {for: "webhook-reveal"}, "Show the new secret"))),
    h("div", {class: "field field-check"}, keepOld, h("label", {for: "webhook-keep-old"}, "Keep the current secret too (rotation: both work until you save again without it)")),
    oldRow,
    field("Extra headers to pass to the template", headers, "Comma-separated header names, e.g. X-Request-Id."),
    h("div", {class: "actions"}, saveBtn, saveNote), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    secretRow.setError("");
    oldRow.setError("");
    const wh = {scheme: scheme.value, headers: headers.value.split(",").map((s) => s.trim()).filter(Boolean)};
    const s = secret.value;
    if (s) {
      if (s.length < 16 || s.length > 256) {
        secretRow.setError("A secret has 16 to 256 characters.");
        return secret.focus();
      }
      wh.secrets = [s];
      if (keepOld.checked) {
        const current = settings.webhook?.secretFingerprints || [];
        if (!oldSecret.value || !current.includes(await fingerprint(oldSecret.value))) {
          oldRow.setError(current.length ? `That is not a current secret: its fingerprint is not ${current.join(" or ")}.` : "No secret is set to keep.");
          return oldSecret.focus();
        }
        if (oldSecret.value !== s) wh.secrets.push(oldSecret.value);
      }
    } else if (scheme.value !== "bearer" && !(settings.webhook?.secretCount > 0)) {
      secretRow.setError(`The ${scheme.value} scheme needs a secret.`);
      return secret.focus();
    }
    saveBtn.disabled = true;
    try {
      const saved = await putSettings({webhook: wh});
      settings = saved;
      secret.value = "";
      oldSecret.value = "";
      keepOld.checked = false;
      oldRow.hidden = true;
      reveal.checked = false;
      secret.type = "password";
      showPrints(saved.webhook);
      const fps = saved.webhook?.secretFingerprints || [];
      out.replaceChildren(h("p", {class: "success"}, `Saved: scheme ${saved.webhook?.scheme || "bearer"}`, fps.length ? `, secret ${fps.join(", ")}` : "", "."));
      announce(`Webhook settings saved${fps.length ? ": secret " + fps[0] : ""}`);
    } catch (err) {
      showError(out, err, "Saving the webhook settings");
    } finally {
      saveBtn.disabled = false;
    }
  });
  return h("section", {class: "card", "aria-labelledby": "webhook-h"}, h("h2", {id: "webhook-h"}, "Webhook"),
    h("p", null, "Deliveries to the URL below fire this hook, authenticated as the scheme says."), form);
}

// historyEditor sets the hook's own cap on its history, below the
// service's: at most this many fire records and as many decisions.
function historyEditor(g, id, settings, putSettings) {
  const max = h("input", {id: "history-max", type: "number", min: "1", max: "1000000", placeholder: "the service's cap"});
  max.value = settings.history?.maxRecords ?? "";
  const row = field("Keep at most this many fire records and decisions", max,
    "Empty: the service's cap (HOOKLINE_HISTORY_MAX_PER_HOOK, 10,000 by default). Past the cap, each new record deletes the oldest.");
  const saveBtn = h("button", {type: "submit", id: "save-history"}, "Save history cap");
  const note = guard(saveBtn, need.updateSettings(g, id));
  const out = h("div");
  const rows = new Map([["history", row]]);
  const form = h("form", {novalidate: true, id: "history-form"}, row, h("div", {class: "actions"}, saveBtn, note), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearProblems(rows);
    saveBtn.disabled = true;
    try {
      const saved = await putSettings({history: max.value === "" ? undefined : {maxRecords: Number(max.value)}});
      max.value = saved.history?.maxRecords ?? "";
      out.replaceChildren(h("p", {class: "success", role: "status"}, saved.history ? `Saved: at most ${saved.history.maxRecords} records.` : "Saved: the service's cap applies."));
      announce("History cap saved");
    } catch (err) {
      showProblems(out, err, "Saving the history cap", rows);
    } finally {
      saveBtn.disabled = false;
    }
  });
  return h("section", {class: "card", "aria-labelledby": "history-h"}, h("h2", {id: "history-h"}, "History"), form);
}
