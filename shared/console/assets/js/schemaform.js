// A form generated from a JSON schema (a hook's triggerSchema): text,
// number and boolean inputs, a select for enums, fieldsets for nested
// objects, add/remove lists for arrays, and a JSON text area for whatever
// a form cannot express (oneOf, $ref, free-form objects). It checks the
// common keywords as the user types; the server's check is the final word.

import {h, field, uid, pretty} from "./dom.js";
import {parse} from "./json.js";

// kind decides how a schema is edited.
export function kind(schema) {
  if (!schema || typeof schema !== "object") return "json";
  if (schema.oneOf || schema.anyOf || schema.allOf || schema.$ref || schema.not || schema.if) return "json";
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every((v) => ["string", "number", "boolean"].includes(typeof v))) return "enum";
  let t = schema.type;
  if (Array.isArray(t)) {
    const notNull = t.filter((x) => x !== "null");
    if (notNull.length !== 1) return "json";
    t = notNull[0];
  }
  if (!t && schema.properties) t = "object";
  if (["string", "number", "integer", "boolean"].includes(t)) return t;
  if (t === "object") return schema.properties && Object.keys(schema.properties).length > 0 ? "object" : "json";
  if (t === "array") return schema.items && !Array.isArray(schema.items) && typeof schema.items === "object" ? "array" : "json";
  return "json";
}

// validate checks value against the keywords a form can express, and
// returns [{path, message}].
export function validate(schema, value, path = "") {
  const out = [];
  const at = path || "payload";
  const k = kind(schema);
  if (value === undefined) return out;
  const typeOf = (v) => (Array.isArray(v) ? "array" : v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v);
  if (k === "enum") {
    if (!schema.enum.includes(value)) out.push({path, message: `${at} must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`});
    return out;
  }
  if (k === "string") {
    if (typeof value !== "string") return [{path, message: `${at} must be text`}];
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push({path, message: `${at} must be at least ${schema.minLength} characters`});
    if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push({path, message: `${at} must be at most ${schema.maxLength} characters`});
    if (schema.pattern) {
      try {
        if (!new RegExp(schema.pattern, "u").test(value)) out.push({path, message: `${at} must match ${schema.pattern}`});
      } catch { /* a pattern JavaScript cannot read is left to the server */ }
    }
  } else if (k === "number" || k === "integer") {
    if (typeof value !== "number" || Number.isNaN(value)) return [{path, message: `${at} must be a number`}];
    if (k === "integer" && !Number.isInteger(value)) out.push({path, message: `${at} must be a whole number`});
    if (schema.minimum !== undefined && value < schema.minimum) out.push({path, message: `${at} must be at least ${schema.minimum}`});
    if (schema.maximum !== undefined && value > schema.maximum) out.push({path, message: `${at} must be at most ${schema.maximum}`});
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) out.push({path, message: `${at} must be more than ${schema.exclusiveMinimum}`});
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) out.push({path, message: `${at} must be less than ${schema.exclusiveMaximum}`});
  } else if (k === "boolean") {
    if (typeof value !== "boolean") out.push({path, message: `${at} must be true or false`});
  } else if (k === "object") {
    if (typeOf(value) !== "object") return [{path, message: `${at} must be an object`}];
    for (const r of schema.required || []) {
      if (value[r] === undefined) out.push({path: join(path, r), message: `${join(path, r)} is required`});
    }
    for (const [p, s] of Object.entries(schema.properties)) out.push(...validate(s, value[p], join(path, p)));
    if (schema.additionalProperties === false) {
      for (const p of Object.keys(value)) if (!(p in schema.properties)) out.push({path, message: `${at} may not have ${p}`});
    }
  } else if (k === "array") {
    if (!Array.isArray(value)) return [{path, message: `${at} must be a list`}];
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push({path, message: `${at} needs at least ${schema.minItems} items`});
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push({path, message: `${at} takes at most ${schema.maxItems} items`});
    value.forEach((v, i) => out.push(...validate(schema.items, v, join(path, i))));
  }
  return out;
}

const join = (path, p) => (path ? `${path}.${p}` : String(p));

// defaultOf is the schema's default, or what an empty form holds.
function defaultOf(schema) {
  if (schema && "default" in schema) return structuredClone(schema.default);
  return undefined;
}

// schemaForm builds the form. onChange runs after every edit.
export function schemaForm(schema, onChange) {
  const root = build(schema || {}, "", "Payload", true, onChange, true);
  return {
    element: root.el,
    value: () => root.get() ?? {},
    set: (v) => root.set(v),
    // check validates, shows each problem beside its field and returns
    // them all; the first field with a problem can be focused.
    check() {
      root.clear();
      const problems = [...root.parseErrors(), ...validate(schema || {}, root.get() ?? {})];
      for (const p of problems) root.show(p.path, p.message);
      return problems;
    },
    focus: (path) => root.focusPath(path),
  };
}

function build(schema, path, label, required, onChange, isRoot = false) {
  const k = kind(schema);
  const title = schema.title || label;
  const text = required && !isRoot ? `${title} (required)` : title;
  const hint = schema.description || (schema.format ? `Format: ${schema.format}` : null);
  const changed = () => onChange?.();
  const leaf = (control, get, set) => {
    const row = field(text, control, hint);
    const node = {
      el: row, get, set,
      clear: () => row.setError(""),
      show: (p, msg) => { if (p === path) row.setError(msg); },
      parseErrors: () => [],
      focusPath: (p) => { if (p === path) { control.focus(); return true; } return false; },
    };
    control.addEventListener("input", changed);
    control.addEventListener("change", changed);
    const d = defaultOf(schema);
    if (d !== undefined) set(d);
    return node;
  };

  if (k === "string") {
    const input = h("input", {type: schema.format === "email" ? "email" : "text", name: path || "payload", autocomplete: "off", spellcheck: "false"});
    return leaf(input, () => (input.value === "" && !required ? undefined : input.value), (v) => { input.value = v ?? ""; });
  }
  if (k === "number" || k === "integer") {
    const input = h("input", {type: "number", name: path, step: k === "integer" ? "1" : "any", inputmode: k === "integer" ? "numeric" : "decimal"});
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
    return leaf(input, () => (input.value === "" ? undefined : Number(input.value)), (v) => { input.value = v ?? ""; });
  }
  if (k === "boolean") {
    if (required) {
      const box = h("input", {type: "checkbox", name: path});
      const node = leaf(box, () => box.checked, (v) => { box.checked = v === true; });
      node.el.classList.add("field-check");
      return node;
    }
    const sel = h("select", {name: path}, h("option", {value: ""}, "(not set)"), h("option", {value: "true"}, "true"), h("option", {value: "false"}, "false"));
    return leaf(sel, () => (sel.value === "" ? undefined : sel.value === "true"), (v) => { sel.value = v === undefined ? "" : String(v); });
  }
  if (k === "enum") {
    const sel = h("select", {name: path},
      required ? null : h("option", {value: ""}, "(not set)"),
      schema.enum.map((v, i) => h("option", {value: String(i)}, String(v))));
    return leaf(sel, () => (sel.value === "" ? undefined : schema.enum[Number(sel.value)]),
      (v) => { const i = schema.enum.indexOf(v); sel.value = i < 0 ? (required ? "0" : "") : String(i); });
  }
  if (k === "object") {
    const props = Object.entries(schema.properties);
    const req = new Set(schema.required || []);
    const children = props.map(([p, s]) => [p, build(s, join(path, p), p, req.has(p), onChange)]);
    const errEl = h("p", {class: "field-error", hidden: true});
    const legendText = isRoot ? "Payload" : text;
    const fs = h("fieldset", {class: "schema-object"}, h("legend", null, legendText),
      hint && !isRoot ? h("p", {class: "hint"}, hint) : null, errEl, children.map(([, c]) => c.el));
    return {
      el: fs,
      get() {
        const out = {};
        for (const [p, c] of children) {
          const v = c.get();
          if (v !== undefined) out[p] = v;
        }
        return Object.keys(out).length === 0 && !required && !isRoot ? undefined : out;
      },
      set(v) {
        for (const [p, c] of children) c.set(v && typeof v === "object" ? v[p] : undefined);
      },
      clear() { errEl.hidden = true; children.forEach(([, c]) => c.clear()); },
      show(p, msg) {
        if (p === path) { errEl.textContent = msg; errEl.hidden = false; } else children.forEach(([, c]) => c.show(p, msg));
      },
      parseErrors: () => children.flatMap(([, c]) => c.parseErrors()),
      focusPath(p) {
        if (p === path) { fs.querySelector("input,select,textarea,button")?.focus(); return true; }
        return children.some(([, c]) => c.focusPath(p));
      },
    };
  }
  if (k === "array") {
    const list = h("ol", {class: "schema-array"});
    const errEl = h("p", {class: "field-error", hidden: true});
    let items = [];
    const legendId = uid("arr");
    const renumber = () => items.forEach((it, i) => {
      it.path = join(path, i);
      it.remove.textContent = `Remove item ${i + 1}`;
    });
    const add = (v) => {
      const it = {node: build(schema.items, join(path, items.length), `Item ${items.length + 1}`, true, onChange)};
      it.remove = h("button", {type: "button", class: "secondary small", onclick: () => {
        items = items.filter((x) => x !== it);
        it.li.remove();
        renumber();
        changed();
        addBtn.focus();
      }});
      it.li = h("li", null, it.node.el, it.remove);
      items.push(it);
      list.append(it.li);
      if (v !== undefined) it.node.set(v);
      renumber();
      return it;
    };
    const addBtn = h("button", {type: "button", class: "secondary small", "aria-describedby": legendId, onclick: () => {
      const it = add(undefined);
      changed();
      it.li.querySelector("input,select,textarea")?.focus();
    }}, "Add item");
    const fs = h("fieldset", {class: "schema-list"}, h("legend", {id: legendId}, text), hint ? h("p", {class: "hint"}, hint) : null, errEl, list, addBtn);
    const node = {
      el: fs,
      get() {
        const vals = items.map((it) => it.node.get());
        return vals.length === 0 && !required ? undefined : vals;
      },
      set(v) {
        items.forEach((it) => it.li.remove());
        items = [];
        if (Array.isArray(v)) v.forEach((x) => add(x));
      },
      clear() { errEl.hidden = true; items.forEach((it) => it.node.clear()); },
      show(p, msg) {
        if (p === path) { errEl.textContent = msg; errEl.hidden = false; } else items.forEach((it) => it.node.show(p, msg));
      },
      parseErrors: () => items.flatMap((it) => it.node.parseErrors()),
      focusPath(p) {
        if (p === path) { addBtn.focus(); return true; }
        return items.some((it) => it.node.focusPath(p));
      },
    };
    const d = defaultOf(schema);
    if (d !== undefined) node.set(d);
    return node;
  }
  // JSON fallback.
  const area = h("textarea", {name: path || "payload", rows: isRoot ? 8 : 4, spellcheck: "false", class: "mono"});
  const row = field(`${text} (JSON)`, area, hint || "Enter JSON: this part of the schema is too rich for a form.");
  area.addEventListener("input", changed);
  const d = defaultOf(schema);
  if (d !== undefined) area.value = pretty(d);
  else if (isRoot) area.value = "{}";
  const parsed = () => (area.value.trim() === "" ? {value: undefined} : parse(area.value));
  return {
    el: row,
    get: () => parsed().value,
    set: (v) => { area.value = v === undefined ? "" : pretty(v); },
    clear: () => row.setError(""),
    show: (p, msg) => { if (p === path) row.setError(msg); },
    parseErrors() {
      const r = parsed();
      return r.error ? [{path, message: `${path || "payload"}: line ${r.error.line}, column ${r.error.col}: ${r.error.message}`}] : [];
    },
    focusPath: (p) => { if (p === path) { area.focus(); return true; } return false; },
  };
}
