// The console's only way to the server: Hookline's public API, signed with
// the session's credentials. Every action a page offers is one of these
// calls, which a script could make with the same scopes.

import {sign} from "./hawk.js";
import {session} from "./session.js";

// root is where the APIs live: the console is served at <root>/console/.
export const root = new URL("../", document.baseURI);

// ApiError is a refused or failed call, with the API's code and message.
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }

  // detail is the message without the footer Taskcluster services append
  // (method, error code, status, time).
  get detail() {
    return this.message.split("\n\n---\n\n")[0];
  }

  // missingScopes lists what a 403 InsufficientScopes says is missing; for
  // a caller without credentials, the whole expression required.
  get missingScopes() {
    if (this.code !== "InsufficientScopes") return [];
    const m = this.detail.match(/missing the following scopes:\s*```\s*([\s\S]*?)```/) ||
      this.detail.match(/satisfy the following scope expression:\s*```\s*([\s\S]*?)```/);
    if (!m) return [];
    // A single scope is written as is, an expression as indented JSON.
    const block = m[1].trim();
    try {
      return flatten(JSON.parse(block));
    } catch {
      return block.split("\n").map((s) => s.trim()).filter(Boolean);
    }
  }
}

// flatten lists the scopes of an expression: every scope of an AllOf, and
// the alternatives of an AnyOf joined by "or".
function flatten(expr) {
  if (typeof expr === "string") return [expr];
  if (expr?.AllOf) return expr.AllOf.flatMap(flatten);
  if (expr?.AnyOf) return [expr.AnyOf.map((e) => flatten(e).join(" and ")).join(" or ")];
  return [JSON.stringify(expr)];
}

// The server's clock minus ours, in seconds: Hawk refuses timestamps more
// than 15 minutes off, so a 401 "Stale timestamp" sets it from the Date
// header and the call is signed again once.
let clockOffset = 0;

// call sends one API request; path is below root (api/hooks/v1/...). It
// resolves to the decoded reply and rejects with an ApiError.
export async function call(method, path, {body, headers = {}, signal, credentials = session.credentials, retried = false} = {}) {
  const url = new URL(path, root).href;
  const init = {method, headers: {Accept: "application/json", ...headers}, signal, cache: "no-store", credentials: "omit"};
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (credentials) {
    init.headers.Authorization = await sign(credentials, method, url, {ts: Math.floor(Date.now() / 1000) + clockOffset});
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "NetworkError", `The API could not be reached (${err.message}). Check your connection and try again.`);
  }
  const raw = await res.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  if (res.ok) return data;
  const code = data?.code || `HTTP${res.status}`;
  const message = data?.message || raw || res.statusText;
  const date = res.headers.get("Date");
  if (res.status === 401 && credentials && !retried && /Stale timestamp/.test(message) && date) {
    clockOffset = Math.round((Date.parse(date) - Date.now()) / 1000);
    return call(method, path, {body, headers, signal, credentials, retried: true});
  }
  throw new ApiError(res.status, code, message, data);
}

const e = encodeURIComponent;
const hooks = "api/hooks/v1/hooks";
const hl = "api/hookline/v1";
const hookPath = (g, h) => `${e(g)}/${e(h)}`;
const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

// pausePath is where a pause lives: every hook (the kill switch), a group,
// or a hook.
const pausePath = ({hookGroupId, hookId} = {}) =>
  hookId ? `${hl}/hooks/${hookPath(hookGroupId, hookId)}/pause` : hookGroupId ? `${hl}/hook-groups/${e(hookGroupId)}/pause` : `${hl}/pause`;

export const api = {
  whoami: (o) => call("GET", `${hl}/whoami`, o),

  listGroups: (o) => call("GET", hooks, o),
  listHooks: (g, o) => call("GET", `${hooks}/${e(g)}`, o),
  hook: (g, h, o) => call("GET", `${hooks}/${hookPath(g, h)}`, o),
  createHook: (g, h, def, o) => call("PUT", `${hooks}/${hookPath(g, h)}`, {...o, body: def}),
  updateHook: (g, h, def, o) => call("POST", `${hooks}/${hookPath(g, h)}`, {...o, body: def}),
  removeHook: (g, h, o) => call("DELETE", `${hooks}/${hookPath(g, h)}`, o),
  status: (g, h, o) => call("GET", `${hooks}/${hookPath(g, h)}/status`, o),
  lastFires: (g, h, params, o) => call("GET", `${hooks}/${hookPath(g, h)}/last-fires${query(params)}`, o),
  trigger: (g, h, payload, idempotencyKey, o) =>
    call("POST", `${hooks}/${hookPath(g, h)}/trigger`, {...o, body: payload, headers: idempotencyKey ? {"Idempotency-Key": idempotencyKey} : {}}),

  settings: (g, h, o) => call("GET", `${hl}/hooks/${hookPath(g, h)}/settings`, o),
  putSettings: (g, h, settings, o) => call("PUT", `${hl}/hooks/${hookPath(g, h)}/settings`, {...o, body: settings}),
  check: (g, h, req, o) => call("POST", `${hl}/hooks/${hookPath(g, h)}/check`, {...o, body: req}),
  decisions: (g, h, params, o) => call("GET", `${hl}/hooks/${hookPath(g, h)}/decisions${query(params)}`, o),
  outcomeStatus: (g, h, o) => call("GET", `${hl}/hooks/${hookPath(g, h)}/status`, o),
  notifications: (g, h, params, o) => call("GET", `${hl}/hooks/${hookPath(g, h)}/notifications${query(params)}`, o),
  schedule: (g, h, params, o) => call("GET", `${hl}/hooks/${hookPath(g, h)}/schedule${query(params)}`, o),
  backfill: (g, h, req, o) => call("POST", `${hl}/hooks/${hookPath(g, h)}/backfill`, {...o, body: req}),
  replay: (g, h, id, idempotencyKey, o) =>
    call("POST", `${hl}/hooks/${hookPath(g, h)}/decisions/${e(id)}/replay`, {...o, headers: idempotencyKey ? {"Idempotency-Key": idempotencyKey} : {}}),

  getPause: (target, o) => call("GET", pausePath(target), o),
  pause: (target, reason, o) => call("PUT", pausePath(target), {...o, body: {reason}}),
  resume: (target, o) => call("DELETE", pausePath(target), o),

  // webhookURL is the signed webhook route of a hook, to paste into GitHub.
  webhookURL: (g, h) => new URL(`${hl}/hooks/${hookPath(g, h)}/webhook`, root).href,
};

// taskURL is where a task can be seen: the deployment's task page, or the
// local queue's task JSON under `hookline serve`; null when neither.
export function taskURL(taskId) {
  const tmpl = document.querySelector('meta[name="hookline-task-url"]')?.content;
  if (!tmpl || !taskId) return null;
  return new URL(tmpl.replace("{taskId}", e(taskId)), document.baseURI).href;
}

// limit runs at most n calls of fn at once (status columns of long lists).
export function limiter(n) {
  let active = 0;
  const waiting = [];
  const next = () => {
    if (active >= n || waiting.length === 0) return;
    active++;
    const {fn, resolve, reject} = waiting.shift();
    fn().then(resolve, reject).finally(() => { active--; next(); });
  };
  return (fn) => new Promise((resolve, reject) => { waiting.push({fn, resolve, reject}); next(); });
}
