// Taskcluster scope matching, for showing only what the caller may do. The
// server decides: these checks only hide or disable, and a 403 is still
// explained when it comes.

// held reports whether scopes satisfy one required scope: equal, or a held
// scope ending in "*" that is a prefix of it.
export function held(scopes, required) {
  return scopes.some((s) => s === required || (s.endsWith("*") && required.startsWith(s.slice(0, -1))));
}

// satisfies checks a scope expression: a scope, {AllOf: [...]} or {AnyOf: [...]}.
export function satisfies(scopes, expr) {
  if (typeof expr === "string") return held(scopes, expr);
  if (expr.AllOf) return expr.AllOf.every((e) => satisfies(scopes, e));
  if (expr.AnyOf) return expr.AnyOf.some((e) => satisfies(scopes, e));
  return false;
}

// missing lists the scopes of expr that scopes do not hold, for messages
// (an AnyOf is shown as its alternatives joined by "or").
export function missing(scopes, expr) {
  if (satisfies(scopes, expr)) return [];
  if (typeof expr === "string") return [expr];
  if (expr.AllOf) return expr.AllOf.flatMap((e) => missing(scopes, e));
  return [expr.AnyOf.map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join(" or ")];
}

// mayHoldPrefix reports whether some scope could grant a scope starting
// with prefix (to show "New hook" to anyone who can create some hook).
export function mayHoldPrefix(scopes, prefix) {
  return scopes.some((s) => s.startsWith(prefix) || (s.endsWith("*") && prefix.startsWith(s.slice(0, -1))));
}

// The scope expressions of the API routes the console calls, as the
// server declares them.
export const need = {
  listGroups: () => "hooks:list-hooks:",
  listHooks: (g) => `hooks:list-hooks:${g}`,
  getHook: (g, h) => `hooks:get:${g}:${h}`,
  modifyHook: (g, h) => ({AllOf: [`hooks:modify-hook:${g}/${h}`, `assume:hook-id:${g}/${h}`]}),
  removeHook: (g, h) => `hooks:modify-hook:${g}/${h}`,
  status: (g, h) => `hooks:status:${g}/${h}`,
  lastFires: (g, h) => `hooks:list-last-fires:${g}/${h}`,
  trigger: (g, h) => `hooks:trigger-hook:${g}/${h}`,
  settings: (g, h) => `hooks:get:${g}:${h}`,
  updateSettings: (g, h) => `hooks:modify-hook:${g}/${h}`,
  pauseHook: (g, h) => ({AnyOf: [`hooks:modify-hook:${g}/${h}`, `hookline:pause:${g}/${h}`]}),
  pauseGroup: (g) => ({AnyOf: [`hooks:modify-hook:${g}/*`, `hookline:pause:${g}/*`]}),
  killSwitch: () => "hookline:kill-switch",
  readKillSwitch: () => "hooks:list-hooks:",
  readGroupPause: (g) => `hooks:list-hooks:${g}`,
  check: (g, h) => `hooks:get:${g}:${h}`,
  schedule: (g, h) => `hooks:get:${g}:${h}`,
  backfill: (g, h) => `hooks:trigger-hook:${g}/${h}`,
  notifications: (g, h) => `hooks:list-last-fires:${g}/${h}`,
};
