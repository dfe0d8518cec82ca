// DOM helpers. The console never assigns HTML strings (the CSP requires
// Trusted Types): every element is built with h().

const props = new Set(["value", "checked", "disabled", "hidden", "selected", "open", "readOnly", "required", "multiple", "indeterminate"]);

// h builds an element: h("button", {class: "primary", onclick: fn}, "Save").
// Attributes named on* take listeners; value, checked, disabled and the
// like are set as properties; null, undefined and false attributes and
// children are skipped; arrays of children are flattened.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (props.has(k)) {
        el[k] = v;
      } else if (k === "dataset") {
        Object.assign(el.dataset, v);
      } else {
        el.setAttribute(k, v === true ? "" : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// text is a text node.
export const text = (s) => document.createTextNode(String(s));

let counter = 0;
// uid returns a new element id with a readable prefix.
export const uid = (prefix = "id") => `${prefix}-${++counter}`;

// announce says msg in the polite live region (for screen readers, and
// visibly in the status bar).
export function announce(msg) {
  const region = document.getElementById("status");
  if (!region) return;
  region.textContent = "";
  // A fresh text node in a later task makes repeated messages heard.
  setTimeout(() => { region.textContent = msg; }, 30);
}

// field wraps a control in a labelled row: label, the control, an optional
// hint and an error slot the control is described by.
export function field(label, control, hint) {
  const id = control.id || (control.id = uid("f"));
  const hintEl = hint ? h("p", {class: "hint", id: uid("hint")}, hint) : null;
  const errEl = h("p", {class: "field-error", id: uid("err"), hidden: true});
  control.setAttribute("aria-describedby", [hintEl?.id, errEl.id].filter(Boolean).join(" "));
  const row = h("div", {class: "field"}, h("label", {for: id}, label), control, hintEl, errEl);
  row.setError = (msg) => {
    errEl.textContent = msg || "";
    errEl.hidden = !msg;
    if (msg) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  };
  return row;
}

// pretty formats JSON for reading.
export const pretty = (v) => JSON.stringify(v, null, 2);

// codeBlock shows JSON or text in a scrollable <pre>.
export function codeBlock(v, label) {
  const s = typeof v === "string" ? v : pretty(v);
  return h("pre", {class: "code", tabindex: "0", "aria-label": label || null}, s);
}

const dateFmt = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "medium"});
const relFmt = new Intl.RelativeTimeFormat(undefined, {numeric: "auto"});
const units = [["year", 31536e6], ["month", 2592e6], ["day", 864e5], ["hour", 36e5], ["minute", 6e4], ["second", 1e3]];

// relative writes a time as "3 minutes ago" or "in 2 hours".
export function relative(date, now = Date.now()) {
  const d = date.getTime() - now;
  for (const [unit, ms] of units) {
    if (Math.abs(d) >= ms || unit === "second") return relFmt.format(Math.round(d / ms), unit);
  }
  return "";
}

// time is a <time> element with the local date and how long ago (or until).
export function time(iso) {
  if (!iso) return text("—");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return text(iso);
  return h("time", {datetime: d.toISOString(), title: d.toISOString()}, `${dateFmt.format(d)} (${relative(d)})`);
}

// ago is a <time> that says only how long ago (or until), with the full
// date in its title: for dense rows.
export function ago(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return text(iso || "—");
  return h("time", {datetime: d.toISOString(), title: dateFmt.format(d)}, relative(d));
}

const zoneFmts = new Map();
// zoned is a <time> showing an instant's wall-clock time in an IANA zone
// (as a hook's schedule sees it); local is the API's own rendering of it
// (2026-12-08T03:00:00+01:00), kept in the title and shown instead when
// the browser does not know the zone.
export function zoned(iso, zone, local) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return text(local || iso);
  let fmt = zoneFmts.get(zone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "long", timeZone: zone});
    } catch {
      fmt = null;
    }
    zoneFmts.set(zone, fmt);
  }
  return h("time", {datetime: d.toISOString(), title: local || d.toISOString()}, fmt ? fmt.format(d) : local || d.toISOString());
}

// span writes a number of seconds as "1 h 2 min 5 s".
export function span(seconds) {
  const s = Math.round(Math.abs(seconds));
  const parts = [[Math.floor(s / 3600), "h"], [Math.floor(s / 60) % 60, "min"], [s % 60, "s"]].filter(([n]) => n > 0);
  return parts.length ? parts.map(([n, u]) => `${n} ${u}`).join(" ") : "0 s";
}

// badge is a short label whose colour repeats, never replaces, its text.
export const badge = (label, kind) => h("span", {class: `badge badge-${kind || label}`}, label);

// dialog opens a modal <dialog> with a heading, content and buttons; it
// resolves to the value of the button pressed, or null when dismissed.
// Focus returns to where it was.
export function dialog(title, content, buttons) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const titleId = uid("dlg");
    const d = h("dialog", {"aria-labelledby": titleId, class: "dialog"},
      h("h2", {id: titleId}, title),
      h("div", {class: "dialog-body"}, content),
      h("div", {class: "actions"}, buttons.map((b) =>
        h("button", {type: "button", class: b.class || null, dataset: {value: b.value || "cancel"}, onclick: () => { d.returnValue = b.value; d.close(); }}, b.label))));
    d.addEventListener("close", () => {
      d.remove();
      back?.focus?.();
      resolve(d.returnValue && d.returnValue !== "" ? d.returnValue : null);
    });
    document.body.append(d);
    d.showModal();
  });
}

// copyButton copies what get() returns, saying so in the live region.
export function copyButton(label, get) {
  return h("button", {type: "button", class: "secondary", onclick: async () => {
    try {
      await navigator.clipboard.writeText(get());
      announce("Copied to the clipboard");
    } catch {
      announce("Could not copy: select the text and copy it by hand");
    }
  }}, label);
}

// debounce calls fn once input has settled for ms.
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

// hookPath is the console URL of a hook's page (hookIds may hold slashes,
// so each part is encoded).
export const hookHref = (g, hk, tab) =>
  `#/hooks/${encodeURIComponent(g)}/${encodeURIComponent(hk)}${tab ? "/" + tab : ""}`;
