// The hook editor: the definition as JSON, checked as you type, saved
// after a look at what changes, with the server's schema errors shown
// beside the text at the lines they name. Deleting asks first, naming the
// hook.

import {h, field, announce, pretty, dialog, hookHref, debounce} from "../dom.js";
import {api} from "../api.js";
import {session, guard} from "../session.js";
import {need} from "../scopes.js";
import {showError} from "../errors.js";
import {parse, locations, lineCol, lineRange, schemaProblems} from "../json.js";
import {diffView} from "../diff.js";

const groupPattern = /^[a-zA-Z0-9_-]{1,1000}$/;
const hookPattern = /^[a-zA-Z0-9_/-]{1,1000}$/;

const starter = {
  metadata: {name: "My hook", description: "What this hook is for", owner: "me@example.com", emailOnError: true},
  schedule: [],
  triggerSchema: {type: "object", properties: {}, additionalProperties: false},
  task: {
    provisionerId: "my-provisioner",
    workerType: "my-worker",
    payload: {},
    metadata: {name: "My task", description: "Created by my hook", owner: "me@example.com", source: "https://example.com/my-hook"},
  },
};

// definitionOf is the editable part of a hook: everything but its ids,
// which the URL names.
function definitionOf(def) {
  const {hookGroupId, hookId, ...rest} = def;
  return rest;
}

// definitionEditor is the JSON text area with its live syntax check and
// the slot where the server's problems appear.
function definitionEditor(initial) {
  const area = h("textarea", {id: "definition", class: "mono editor", rows: "24", spellcheck: "false", wrap: "off", autocapitalize: "off"});
  area.value = initial;
  const row = field("Hook definition (JSON)", area, "The hook as the hooks API takes it: metadata, task template, schedule, bindings, triggerSchema.");
  const syntax = h("p", {class: "syntax", id: "definition-syntax", "aria-live": "polite"});
  const problems = h("div", {class: "problems", id: "definition-problems"});
  const check = () => {
    const r = parse(area.value);
    if (r.error) {
      syntax.textContent = `Not valid JSON: line ${r.error.line}, column ${r.error.col}: ${r.error.message}`;
      syntax.className = "syntax bad";
      area.setAttribute("aria-invalid", "true");
    } else {
      syntax.textContent = "Valid JSON.";
      syntax.className = "syntax ok";
      area.removeAttribute("aria-invalid");
    }
    return r;
  };
  area.addEventListener("input", debounce(check, 250));
  check();
  const goTo = (line) => {
    const [start, end] = lineRange(area.value, line);
    area.focus();
    area.setSelectionRange(start, end);
    // Scroll the line into view: line height times line number.
    const lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 3) * lh);
  };
  return {
    el: h("div", {class: "editor-wrap"}, row, syntax, problems),
    area, problems, check, goTo,
    // showProblems lists schema problems with the line each names.
    showProblems(err) {
      const list = schemaProblems(err.detail);
      let locs = new Map();
      try {
        locs = locations(area.value);
      } catch { /* the text changed since: lines unknown */ }
      const items = list.map((p) => {
        let at = locs.get(p.path);
        if (at === undefined && p.required) at = locs.get(p.path.split(".").slice(0, -1).join(".")) ?? locs.get(p.field === "body" ? "" : p.field);
        if (at === undefined) at = locs.get(p.field === "body" ? "" : p.field);
        const line = at === undefined ? null : lineCol(area.value, at).line;
        return h("li", null,
          line ? h("button", {type: "button", class: "linkish", onclick: () => goTo(line)}, `Line ${line}`) : null,
          line ? ": " : "",
          h("code", null, p.field), ` ${p.message}`);
      });
      const box = h("div", {class: "error", role: "alert", tabindex: "-1"},
        h("p", null, h("strong", null, "The server refused the definition"), ": ", h("code", {class: "error-code"}, err.code),
          ` (HTTP ${err.status}). Fix ${list.length === 1 ? "this problem" : `these ${list.length} problems`} and save again:`),
        h("ul", {class: "problem-list"}, items));
      problems.replaceChildren(box);
      area.setAttribute("aria-invalid", "true");
      const described = (area.getAttribute("aria-describedby") || "").split(" ");
      if (!described.includes("definition-problems")) area.setAttribute("aria-describedby", [...described, "definition-problems"].join(" ").trim());
      box.focus();
    },
  };
}

// save sends the definition; schema errors go beside the text, anything
// else into the problem slot. It resolves to the saved hook, or null.
async function save(ed, send) {
  ed.problems.replaceChildren();
  const r = ed.check();
  if (r.error) {
    ed.goTo(r.error.line);
    announce("The definition is not valid JSON; nothing was sent.");
    return null;
  }
  try {
    return await send(r.value);
  } catch (err) {
    if (err.code === "InputValidationError") ed.showProblems(err);
    else showError(ed.problems, err, "Saving the hook");
    return null;
  }
}

export async function renderNew(main, group, {signal}) {
  const gInput = h("input", {id: "new-group", value: group, autocomplete: "off", spellcheck: "false"});
  const idInput = h("input", {id: "new-hook-id", autocomplete: "off", spellcheck: "false"});
  const gRow = field("Hook group ID", gInput, "Letters, digits, - and _.");
  const idRow = field("Hook ID", idInput, "Letters, digits, -, _ and /.");
  const ed = definitionEditor(pretty(starter));
  const button = h("button", {type: "submit", id: "save-hook"}, "Create hook");
  const scopeNote = h("p", {class: "scope-note", id: "new-scope-note", "aria-live": "polite"});
  const updateNote = () => {
    const g = gInput.value.trim();
    const id = idInput.value.trim();
    const lacking = g && id ? session.missing(need.modifyHook(g, id)) : [];
    scopeNote.textContent = lacking.length ? `Your scopes lack ${lacking.join(", ")}: the server will refuse this hook unless your roles grant them.` : "";
  };
  gInput.addEventListener("input", updateNote);
  idInput.addEventListener("input", updateNote);
  session.addEventListener("change", updateNote);
  signal.addEventListener("abort", () => session.removeEventListener("change", updateNote));
  const form = h("form", {id: "hook-form", novalidate: true}, gRow, idRow, ed.el, scopeNote, h("div", {class: "actions"}, button));
  main.replaceChildren(h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/"}, "Hooks"), " /"), h("h1", null, "New hook"), form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const g = gInput.value.trim();
    const id = idInput.value.trim();
    gRow.setError(groupPattern.test(g) ? "" : "Give a hook group ID: letters, digits, - and _.");
    idRow.setError(hookPattern.test(id) ? "" : "Give a hook ID: letters, digits, -, _ and /.");
    if (!groupPattern.test(g)) return gInput.focus();
    if (!hookPattern.test(id)) return idInput.focus();
    button.disabled = true;
    const saved = await save(ed, (def) => api.createHook(g, id, def));
    button.disabled = false;
    if (saved) {
      announce(`Created hook ${g}/${id}`);
      location.hash = hookHref(g, id);
    }
  });
}

export async function renderEdit(panel, g, id, {signal}) {
  let def;
  try {
    def = await api.hook(g, id, {signal});
  } catch (err) {
    showError(panel, err, "Reading the hook");
    return;
  }
  let original = pretty(definitionOf(def));
  const ed = definitionEditor(original);
  const saveBtn = h("button", {type: "submit", id: "save-hook"}, "Review and save");
  const scopeNote = h("p", {class: "scope-note", "aria-live": "polite"});
  const noteScopes = () => {
    const lacking = session.missing(need.modifyHook(g, id));
    scopeNote.textContent = lacking.length ? `Your scopes lack ${lacking.join(", ")}: the server will refuse to save unless your roles grant them.` : "";
  };
  noteScopes();
  session.addEventListener("change", noteScopes);
  signal.addEventListener("abort", () => session.removeEventListener("change", noteScopes));
  const delBtn = h("button", {type: "button", class: "danger", id: "delete-hook"}, "Delete hook…");
  const delNote = guard(delBtn, need.removeHook(g, id));
  const delSlot = h("div");
  const form = h("form", {id: "hook-form", novalidate: true}, ed.el, scopeNote,
    h("div", {class: "actions"}, saveBtn, h("button", {type: "button", class: "secondary", onclick: () => {
      ed.area.value = original;
      ed.check();
      ed.problems.replaceChildren();
      announce("Changes discarded");
    }}, "Discard changes")));
  panel.replaceChildren(form, h("section", {class: "danger-zone", "aria-labelledby": "danger-h"},
    h("h2", {id: "danger-h"}, "Delete"), h("p", null, "Deleting removes the hook, its settings, pause and decision log. Tasks it created stay."),
    delBtn, delNote, delSlot));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = ed.check();
    if (r.error) {
      ed.goTo(r.error.line);
      return;
    }
    const next = pretty(r.value);
    if (next === original) {
      announce("Nothing changed: there is nothing to save.");
      return;
    }
    const ok = await dialog(`Save changes to ${g}/${id}?`, diffView(original, next),
      [{label: "Save changes", value: "save", class: "primary"}, {label: "Keep editing", value: "", class: "secondary"}]);
    if (ok !== "save") return;
    saveBtn.disabled = true;
    const saved = await save(ed, (value) => api.updateHook(g, id, value));
    saveBtn.disabled = false;
    if (saved) {
      original = pretty(definitionOf(saved));
      ed.area.value = original;
      ed.check();
      announce(`Saved ${g}/${id}`);
    }
  });

  delBtn.addEventListener("click", async () => {
    const ok = await dialog(`Delete hook ${g}/${id}?`,
      h("p", null, `This deletes the hook ${g}/${id} with its settings and decision log. It cannot be undone.`),
      [{label: `Delete ${g}/${id}`, value: "delete", class: "danger"}, {label: "Cancel", value: "", class: "secondary"}]);
    if (ok !== "delete") return;
    try {
      await api.removeHook(g, id);
      announce(`Deleted hook ${g}/${id}`);
      location.hash = "#/";
    } catch (err) {
      showError(delSlot, err, `Deleting ${g}/${id}`);
    }
  });
}
