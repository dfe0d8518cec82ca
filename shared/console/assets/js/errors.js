// How a failed call is shown: the API's code and message, and for 401 and
// 403 what to do about it. Errors never navigate away or clear a form, so
// nothing the user typed is lost.

import {h} from "./dom.js";
import {session} from "./session.js";

// errorBox is an alert for err (an ApiError or any Error). What failed
// (e.g. "Saving the hook") heads it.
export function errorBox(err, what) {
  const box = h("div", {class: "error", role: "alert"});
  const head = what ? `${what} failed` : "That failed";
  if (err?.name !== "ApiError") {
    box.append(h("p", null, h("strong", null, head), ": ", String(err?.message || err)));
    return box;
  }
  box.append(h("p", null, h("strong", null, head), ": ", h("code", {class: "error-code"}, err.code),
    err.status ? ` (HTTP ${err.status})` : ""));
  if (err.status === 401) {
    box.append(h("p", null, "The server did not accept your credentials: they may be wrong, expired, or signed with a clock that is off. Sign in again; what you typed here stays as it is."),
      h("button", {type: "button", onclick: () => document.dispatchEvent(new CustomEvent("hookline:signin"))}, "Sign in again"));
  } else if (err.status === 403 && err.code === "InsufficientScopes") {
    const lacking = err.missingScopes;
    const who = session.who.authenticated ? `Your client ${session.who.clientId} lacks` : "Without credentials you lack";
    box.append(h("p", null, `${who} the scopes this needs.`, lacking.length ? " Missing:" : ""));
    if (lacking.length) box.append(h("ul", {class: "scopes"}, lacking.map((s) => h("li", null, h("code", null, s)))));
    box.append(h("p", null, session.who.authenticated
      ? "Ask whoever manages your client or roles for them, or sign in with credentials that have them."
      : "Sign in with credentials that have them."),
    h("button", {type: "button", class: "secondary", onclick: () => document.dispatchEvent(new CustomEvent("hookline:signin"))}, "Sign in"));
  }
  box.append(h("details", {open: err.status !== 401 && err.status !== 403}, h("summary", null, "Message from the server"),
    h("pre", {class: "code"}, err.detail)));
  return box;
}

// showError puts an error box into slot (replacing what was there) and
// moves focus to it, so keyboard and screen reader users learn of it.
export function showError(slot, err, what) {
  if (err?.name === "AbortError") return;
  const box = errorBox(err, what);
  box.tabIndex = -1;
  slot.replaceChildren(box);
  box.focus();
}
