// Who is signed in. Credentials live in sessionStorage only: never in a
// cookie, never in localStorage, and never sent anywhere but in the Hawk
// header of this console's own API calls. Closing the tab forgets them.

import {satisfies, missing} from "./scopes.js";

const key = "hookline.credentials";

// parseCredentials accepts what a person pastes: Taskcluster's credentials
// JSON ({clientId, accessToken, certificate?}, the certificate as JSON text
// or as an object), optionally with authorizedScopes.
export function parseCredentials(c) {
  if (!c || typeof c !== "object") throw new Error("credentials must be a JSON object with clientId and accessToken");
  const clientId = String(c.clientId ?? "").trim();
  const accessToken = String(c.accessToken ?? "").trim();
  if (!clientId || !accessToken) throw new Error("credentials need a clientId and an accessToken");
  const out = {clientId, accessToken};
  if (c.certificate) {
    const cert = typeof c.certificate === "string" ? JSON.parse(c.certificate) : c.certificate;
    if (!cert || typeof cert !== "object" || !cert.seed || !cert.signature) {
      throw new Error("the certificate is not a Taskcluster temporary-credentials certificate");
    }
    out.certificate = typeof c.certificate === "string" ? c.certificate : JSON.stringify(c.certificate);
  }
  if (Array.isArray(c.authorizedScopes)) out.authorizedScopes = c.authorizedScopes.map(String);
  return out;
}

class Session extends EventTarget {
  constructor() {
    super();
    this.credentials = null;
    // whoami: {clientId?, authenticated, scopes}; anonymous until known.
    this.who = {authenticated: false, scopes: []};
    try {
      const raw = sessionStorage.getItem(key);
      if (raw) this.credentials = parseCredentials(JSON.parse(raw));
    } catch {
      sessionStorage.removeItem(key);
    }
  }

  // signIn keeps credentials for this tab and the identity they proved.
  signIn(credentials, who) {
    this.credentials = credentials;
    sessionStorage.setItem(key, JSON.stringify(credentials));
    this.setWho(who);
  }

  signOut(who) {
    this.credentials = null;
    sessionStorage.removeItem(key);
    this.setWho(who || {authenticated: false, scopes: []});
  }

  setWho(who) {
    this.who = who;
    this.dispatchEvent(new Event("change"));
  }

  can(expr) {
    return satisfies(this.who.scopes || [], expr);
  }

  missing(expr) {
    return missing(this.who.scopes || [], expr);
  }
}

export const session = new Session();

// guard disables a control while the caller lacks the scopes of expr (a
// scope expression, or a function returning one, re-read on every check),
// and says why next to it. It follows sign-ins and sign-outs.
export function guard(control, expr) {
  const note = document.createElement("span");
  note.className = "scope-note";
  note.id = `${control.id || "c" + Math.random().toString(36).slice(2)}-scope`;
  const update = () => {
    if (!control.isConnected && control.dataset.guarded) {
      session.removeEventListener("change", update);
      return;
    }
    control.dataset.guarded = "1";
    const e = typeof expr === "function" ? expr() : expr;
    const lacking = e ? session.missing(e) : [];
    control.disabled = lacking.length > 0;
    note.textContent = lacking.length ? `Needs ${lacking.join(", ")}` : "";
    note.hidden = lacking.length === 0;
    const ids = new Set((control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
    if (lacking.length) ids.add(note.id);
    else ids.delete(note.id);
    if (ids.size) control.setAttribute("aria-describedby", [...ids].join(" "));
    else control.removeAttribute("aria-describedby");
  };
  session.addEventListener("change", update);
  queueMicrotask(update);
  return note;
}
