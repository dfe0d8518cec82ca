// Fire a hook: a form generated from its triggerSchema, checked as you
// type. "Check" asks the server what a fire would do (rendered task,
// schema problems, missing scopes) without creating anything; "Fire"
// calls triggerHook with an Idempotency-Key, so a retry after a network
// failure cannot create a second task.

import {h, field, announce, pretty, codeBlock, badge, time, hookHref} from "../dom.js";
import {api, taskURL} from "../api.js";
import {guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import {schemaForm, kind} from "../schemaform.js";
import {parse} from "../json.js";

export async function render(panel, g, id, {signal}) {
  let def;
  try {
    def = await api.hook(g, id, {signal});
  } catch (err) {
    showError(panel, err, "Reading the hook");
    return;
  }
  const summary = h("p", {class: "payload-summary", id: "payload-summary", "aria-live": "polite"});
  const form = schemaForm(def.triggerSchema || {}, () => validateNow());
  const jsonArea = h("textarea", {id: "payload-json", class: "mono", rows: "10", spellcheck: "false"});
  const jsonRow = field("Payload (JSON)", jsonArea);
  jsonRow.hidden = true;
  const asJSON = h("input", {type: "checkbox", id: "payload-as-json"});
  const formBox = h("div", {class: "schema-form"}, form.element);
  const checkBtn = h("button", {type: "button", id: "check-hook", class: "secondary"}, "Check");
  const fireBtn = h("button", {type: "submit", id: "fire-hook"}, "Fire");
  const checkNote = guard(checkBtn, need.check(g, id));
  const fireNote = guard(fireBtn, need.trigger(g, id));
  const checkOut = h("section", {id: "check-result", class: "result", "aria-live": "polite"});
  const fireOut = h("section", {id: "fire-result", class: "result"});
  const keyNote = h("p", {class: "hint", id: "idempotency-key"});

  // payload reads the form or the JSON text; problems are listed beside
  // the fields and summed up in one line.
  const payload = () => {
    if (asJSON.checked) {
      const r = parse(jsonArea.value);
      if (r.error) return {problems: [{path: "", message: `line ${r.error.line}, column ${r.error.col}: ${r.error.message}`}]};
      return {value: r.value, problems: []};
    }
    const problems = form.check();
    return {value: form.value(), problems};
  };
  function validateNow() {
    const {problems} = payload();
    jsonRow.setError(asJSON.checked && problems.length ? problems[0].message : "");
    summary.textContent = problems.length
      ? `${problems.length} problem${problems.length === 1 ? "" : "s"} with the payload: ${problems.map((p) => p.message).join("; ")}`
      : "The payload matches the trigger schema as far as the form can tell; Check asks the server.";
    summary.className = `payload-summary ${problems.length ? "bad" : "ok"}`;
    return problems;
  }
  jsonArea.addEventListener("input", validateNow);
  asJSON.addEventListener("change", () => {
    if (asJSON.checked) {
      jsonArea.value = pretty(form.value());
      jsonRow.hidden = false;
      formBox.hidden = true;
      jsonArea.focus();
    } else {
      const r = parse(jsonArea.value);
      if (r.error) {
        asJSON.checked = true;
        jsonRow.setError(`Fix the JSON first: line ${r.error.line}, column ${r.error.col}: ${r.error.message}`);
        return;
      }
      form.set(r.value);
      jsonRow.hidden = true;
      formBox.hidden = false;
    }
    validateNow();
  });

  // A schema a form cannot express is edited as JSON already.
  const toggle = h("div", {class: "field field-check", hidden: kind(def.triggerSchema || {}) === "json"},
    asJSON, h("label", {for: "payload-as-json"}, "Edit the payload as JSON"));
  const fireForm = h("form", {id: "fire-form", novalidate: true},
    h("p", null, "The payload is what triggerHook sends as the body; the task template sees it as ", h("code", null, "payload"), "."),
    toggle,
    formBox, jsonRow, summary,
    h("div", {class: "actions"}, checkBtn, fireBtn, checkNote, fireNote), keyNote);
  panel.replaceChildren(fireForm, checkOut, fireOut);
  validateNow();

  checkBtn.addEventListener("click", async () => {
    const {value, problems} = payload();
    if (asJSON.checked && problems.length) return jsonArea.focus();
    checkBtn.disabled = true;
    checkOut.replaceChildren(h("p", null, "Checking…"));
    try {
      showCheck(checkOut, await api.check(g, id, {payload: value ?? {}}));
      announce("Check done");
    } catch (err) {
      showError(checkOut, err, "Checking the hook");
    } finally {
      checkBtn.disabled = false;
    }
  });

  // The key of the last fire that may or may not have reached the server
  // (network failure, 5xx): firing the same payload again reuses it.
  let pending = null;
  fireForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const {value, problems} = payload();
    if (problems.length) {
      announce("Fix the payload first");
      if (!asJSON.checked) form.focus(problems[0].path);
      else jsonArea.focus();
      return;
    }
    const body = JSON.stringify(value ?? {});
    const key = pending && pending.body === body ? pending.key : crypto.randomUUID();
    pending = {body, key};
    keyNote.textContent = `Idempotency-Key: ${key}`;
    fireBtn.disabled = true;
    fireOut.replaceChildren(h("p", null, "Firing…"));
    try {
      const res = await api.trigger(g, id, value ?? {}, key);
      pending = null;
      const decisionsLink = h("a", {href: hookHref(g, id, "decisions")}, "See the decision log");
      if (res?.taskId) {
        const link = taskURL(res.taskId);
        fireOut.replaceChildren(h("div", {class: "success", role: "status", tabindex: "-1"},
          h("p", null, badge("created"), " Created task ", link ? h("a", {href: link, class: "task", id: "fired-task"}, res.taskId) : h("code", {id: "fired-task"}, res.taskId), "."),
          h("p", null, decisionsLink)));
        announce(`Fired: created task ${res.taskId}`);
      } else {
        fireOut.replaceChildren(h("div", {class: "success", role: "status", tabindex: "-1"},
          h("p", null, badge("declined"), " The template rendered to nothing for this payload: no task was created."), h("p", null, decisionsLink)));
        announce("Fired: the template declined, no task");
      }
      fireOut.firstChild.focus();
    } catch (err) {
      if (err.status && err.status < 500) pending = null;
      showError(fireOut, err, "Firing the hook");
      fireOut.append(h("p", null, h("a", {href: hookHref(g, id, "decisions")}, "See the decision log"), " for what became of this fire."));
    } finally {
      fireBtn.disabled = false;
    }
  });
}

// showCheck shows a pre-check report.
function showCheck(slot, rep) {
  const parts = [h("h2", {tabindex: "-1"}, "Check")];
  if (rep.warnings.length === 0) {
    parts.push(h("p", {class: "success"}, "No problems: firing this payload would create the task below."));
  } else {
    parts.push(h("ul", {class: "warnings"}, rep.warnings.map((w) => h("li", null, badge(w.code, "warning"), " ", w.message))));
  }
  if (rep.missingScopes) {
    parts.push(h("p", null, "The hook's role lacks these scopes the task needs:"), codeBlock(rep.missingScopes, "Missing scopes"));
  }
  if (rep.requiredScopes) {
    parts.push(h("details", null, h("summary", null, "Scopes the task needs"), codeBlock(rep.requiredScopes, "Required scopes")));
  }
  if (rep.task) parts.push(h("h3", null, "Rendered task"), codeBlock(rep.task, "Rendered task"));
  if (rep.nextScheduledDates?.length) {
    parts.push(h("h3", null, "Next scheduled times"), h("ol", {class: "plain"}, rep.nextScheduledDates.map((d) => h("li", null, time(d)))));
  }
  slot.replaceChildren(...parts);
}
