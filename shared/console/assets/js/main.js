// The console's shell: who is signed in, the kill-switch banner, and the
// router that shows a page for the URL's #fragment. Pages are modules with
// a render function; a new page is a new entry in routes.

import {h, announce, field} from "./dom.js";
import {api} from "./api.js";
import {session, parseCredentials} from "./session.js";
import {need} from "./scopes.js";
import {errorBox} from "./errors.js";
import * as list from "./pages/list.js";
import * as hook from "./pages/hook.js";
import * as editor from "./pages/editor.js";
import * as operate from "./pages/operate.js";

// routes: pattern on the fragment, the page, and whether the page is
// always rebuilt when someone signs in or out. Other pages are rebuilt only
// while nothing was typed into them: what was typed stays, and their
// buttons follow the new scopes by themselves.
const routes = [
  {re: /^\/?$/, page: (main, m, ctx) => list.render(main, ctx), rebuild: true, nav: "hooks"},
  {re: /^\/new(?:\/([^/]+))?$/, page: (main, m, ctx) => editor.renderNew(main, m[1] ? decodeURIComponent(m[1]) : "", ctx), nav: "hooks"},
  {
    re: /^\/hooks\/([^/]+)\/([^/]+)(?:\/(edit|fire|decisions|schedule|notify|operate))?$/,
    page: (main, m, ctx) => hook.render(main, decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3] || "", ctx),
    rebuild: (m) => !m[3] || m[3] === "decisions", nav: "hooks",
  },
  {re: /^\/operate$/, page: (main, m, ctx) => operate.renderGlobal(main, ctx), nav: "operate"},
];

let current = null; // {route, match, controller}

async function show() {
  const path = location.hash.replace(/^#/, "") || "/";
  current?.controller.abort();
  const main = document.getElementById("main");
  const controller = new AbortController();
  let route = null;
  let match = null;
  for (const r of routes) {
    match = path.match(r.re);
    if (match) {
      route = r;
      break;
    }
  }
  current = {route, match, controller, dirty: false};
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (route && a.dataset.nav === route.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  refreshBanner();
  if (!route) {
    main.replaceChildren(h("h1", {tabindex: "-1"}, "Not found"), h("p", null, "No page here. ", h("a", {href: "#/"}, "See the hooks.")));
    focusHeading(main);
    return;
  }
  main.replaceChildren(h("p", {class: "loading"}, "Loading…"));
  try {
    await route.page(main, match, {signal: controller.signal});
  } catch (err) {
    // A page that fails to build (a malformed link, a bug) says so
    // instead of loading forever.
    if (err.name !== "AbortError" && current?.controller === controller) {
      console.error(err);
      main.replaceChildren(h("h1", null, "This page could not be shown"), errorBox(err, "Showing the page"));
    }
  }
  if (current?.controller === controller) {
    focusHeading(main);
  }
}

// focusHeading moves focus to the page's heading, so keyboard and screen
// reader users start at the top of what changed.
function focusHeading(main) {
  const h1 = main.querySelector("h1");
  document.title = h1 ? `${h1.textContent} · Hookline` : "Hookline console";
  if (h1 && !main.contains(document.activeElement)) {
    h1.tabIndex = -1;
    h1.focus({preventScroll: false});
  }
}

// The who-am-I box in the header.
function renderWho() {
  const box = document.getElementById("who");
  const who = session.who;
  const scopes = h("details", {class: "scopes-box"},
    h("summary", null, `${who.scopes.length} scope${who.scopes.length === 1 ? "" : "s"}`),
    who.scopes.length ? h("ul", {class: "scopes"}, who.scopes.map((s) => h("li", null, h("code", null, s)))) : h("p", null, "None."));
  if (who.authenticated) {
    box.replaceChildren(h("span", null, "Signed in as ", h("strong", {id: "who-client"}, who.clientId)), scopes,
      h("button", {type: "button", class: "secondary", id: "sign-out", onclick: signOut}, "Sign out"));
  } else {
    box.replaceChildren(h("span", {id: "who-client"}, "Not signed in"), scopes,
      h("button", {type: "button", id: "sign-in", onclick: () => signInDialog()}, "Sign in"));
  }
}

async function signOut() {
  let who = {authenticated: false, scopes: []};
  try {
    who = await api.whoami({credentials: null});
  } catch { /* anonymous scopes unknown: none shown */ }
  session.signOut(who);
  announce("Signed out. Your credentials were removed from this tab.");
  document.getElementById("sign-in")?.focus();
}

// signInDialog asks for credentials, proves them with whoami and keeps
// them for the tab. It is a dialog over the current page, so a sign-in
// after a 401 loses nothing typed there.
function signInDialog() {
  if (document.getElementById("signin-dialog")) return;
  const back = document.activeElement;
  const clientId = h("input", {id: "signin-client", autocomplete: "username", spellcheck: "false", required: true});
  const token = h("input", {id: "signin-token", type: "password", autocomplete: "current-password", spellcheck: "false", required: true});
  const cert = h("textarea", {id: "signin-certificate", rows: "3", spellcheck: "false", class: "mono"});
  const scopes = h("textarea", {id: "signin-scopes", rows: "2", spellcheck: "false", class: "mono"});
  const paste = h("textarea", {id: "signin-json", rows: "3", spellcheck: "false", class: "mono"});
  const problem = h("div", {class: "dialog-problem"});
  paste.addEventListener("input", () => {
    try {
      const c = parseCredentials(JSON.parse(paste.value));
      clientId.value = c.clientId;
      token.value = c.accessToken;
      cert.value = c.certificate || "";
      if (c.authorizedScopes) scopes.value = c.authorizedScopes.join("\n");
      problem.replaceChildren(h("p", null, "Filled in from the JSON."));
    } catch { /* not complete yet */ }
  });
  const submit = h("button", {type: "submit", id: "signin-submit"}, "Sign in");
  const form = h("form", {id: "signin-form", novalidate: true},
    h("p", null, "Use a Taskcluster clientId and accessToken, or temporary credentials. They stay in this tab (sessionStorage) and are only ever sent as Hawk signatures."),
    field("Client ID", clientId),
    field("Access token", token),
    field("Certificate (temporary credentials only)", cert, "The JSON certificate that came with temporary credentials."),
    field("Restrict to these scopes (optional)", scopes, "One scope per line: requests carry them as authorizedScopes."),
    h("details", null, h("summary", null, "Paste credentials JSON"),
      field("Credentials JSON", paste, 'For example {"clientId": "...", "accessToken": "...", "certificate": "..."}')),
    problem,
    h("div", {class: "actions"}, submit, h("button", {type: "button", class: "secondary", onclick: () => d.close()}, "Cancel")));
  const d = h("dialog", {id: "signin-dialog", class: "dialog", "aria-labelledby": "signin-title"}, h("h2", {id: "signin-title"}, "Sign in"), form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let creds;
    try {
      const raw = {clientId: clientId.value, accessToken: token.value, certificate: cert.value.trim() || undefined};
      const list = scopes.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (list.length) raw.authorizedScopes = list;
      creds = parseCredentials(raw);
    } catch (err) {
      problem.replaceChildren(h("p", {class: "error", role: "alert"}, err.message));
      return;
    }
    submit.disabled = true;
    try {
      const who = await api.whoami({credentials: creds});
      session.signIn(creds, who);
      d.close();
      announce(`Signed in as ${who.clientId}`);
    } catch (err) {
      const msg = err.status === 401 ? `The server refused these credentials: ${err.detail}` : `Signing in failed: ${err.code || ""} ${err.detail || err.message}`;
      problem.replaceChildren(h("p", {class: "error", role: "alert"}, msg));
    } finally {
      submit.disabled = false;
    }
  });
  d.addEventListener("close", () => {
    d.remove();
    (back?.isConnected ? back : document.getElementById("main"))?.focus?.();
  });
  document.body.append(d);
  d.showModal();
  clientId.focus();
}

// The kill-switch banner, shown on every page while it is on.
async function refreshBanner() {
  const banner = document.getElementById("banner");
  if (!session.can(need.readKillSwitch())) {
    banner.replaceChildren();
    return;
  }
  try {
    const st = await api.getPause({});
    if (!st.paused) {
      banner.replaceChildren();
      return;
    }
    const p = st.pause;
    banner.replaceChildren(h("div", {class: "killswitch", role: "alert"},
      h("strong", null, "Kill switch on: "), "no hook fires. ",
      `Reason: ${p.reason}. Set by ${p.by || "unknown"} at ${new Date(p.since).toLocaleString()}. `,
      h("a", {href: "#/operate"}, "Operate")));
  } catch {
    banner.replaceChildren();
  }
}

async function start() {
  document.addEventListener("hookline:signin", () => signInDialog());
  document.addEventListener("hookline:pause-changed", () => refreshBanner());
  let who = {authenticated: false, scopes: []};
  try {
    who = await api.whoami();
  } catch (err) {
    if (err.status === 401 && session.credentials) {
      // Stored credentials no longer work (expired, rotated): forget them.
      session.signOut();
      try {
        who = await api.whoami({credentials: null});
      } catch { /* anonymous */ }
      announce(`Your saved credentials were refused (${err.detail}); sign in again.`);
    }
  }
  session.setWho(who);
  renderWho();
  session.addEventListener("change", () => {
    renderWho();
    refreshBanner();
    const c = current;
    if (c?.route && (!c.dirty || (typeof c.route.rebuild === "function" ? c.route.rebuild(c.match) : c.route.rebuild))) show();
  });
  window.addEventListener("hashchange", show);
  document.getElementById("main").addEventListener("input", () => {
    if (current) current.dirty = true;
  });
  await show();
}

start();
