// Hawk request signing as Taskcluster's clients do it, with WebCrypto.
//
// The Authorization header is
//   Hawk id="<clientId>", ts="<s>", nonce="<n>"[, hash="<h>"][, ext="<e>"], mac="<m>"
// where mac is base64(HMAC-SHA256(accessToken, normalized string)) and ext
// is base64 of the JSON {certificate, authorizedScopes} when either is set
// (temporary credentials, restricted scopes). Like the JavaScript and Go
// clients, requests carry no payload hash unless asked.

const enc = new TextEncoder();

function base64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

// hmac is base64(HMAC-SHA256(key, msg)), both UTF-8.
export async function hmac(key, msg) {
  if (!globalThis.crypto?.subtle) {
    throw new Error("signing needs WebCrypto, which browsers offer only on https:// or localhost pages");
  }
  const k = await crypto.subtle.importKey("raw", enc.encode(key), {name: "HMAC", hash: "SHA-256"}, false, ["sign"]);
  return base64(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}

// payloadHash is Hawk's hash of a body: the content type's media type
// (lower-case, parameters dropped) and the body.
export async function payloadHash(contentType, body) {
  const type = (contentType || "").split(";")[0].trim().toLowerCase();
  const digest = await crypto.subtle.digest("SHA-256", enc.encode(`hawk.1.payload\n${type}\n${body}\n`));
  return base64(digest);
}

// normalizedString is what the MAC covers.
export function normalizedString({ts, nonce, method, resource, host, port, hash = "", ext = ""}) {
  const escapedExt = ext.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return `hawk.1.header\n${ts}\n${nonce}\n${method.toUpperCase()}\n${resource}\n${host.toLowerCase()}\n${port}\n${hash}\n${escapedExt}\n`;
}

// ext is the ext attribute for credentials: base64 of
// {"certificate": {...}, "authorizedScopes": [...]} in that order, or ""
// when neither applies. A certificate may be given as its JSON text (as
// Taskcluster hands it out) or as an object.
export function ext({certificate, authorizedScopes}) {
  const out = {};
  if (certificate) out.certificate = typeof certificate === "string" ? JSON.parse(certificate) : certificate;
  if (Array.isArray(authorizedScopes)) out.authorizedScopes = authorizedScopes;
  if (Object.keys(out).length === 0) return "";
  return base64(enc.encode(JSON.stringify(out)));
}

// target is what Hawk takes from a URL: the resource (path and query as
// sent), the host name and the port (the scheme's default when absent).
export function target(url) {
  const u = new URL(url);
  return {resource: u.pathname + u.search, host: u.hostname, port: u.port || (u.protocol === "http:" ? "80" : "443")};
}

// header builds the Authorization header from the raw Hawk inputs.
export async function header({id, key, method, url, ts, nonce, hash = "", ext: e = ""}) {
  const t = target(url);
  const mac = await hmac(key, normalizedString({ts, nonce, method, ...t, hash, ext: e}));
  let out = `Hawk id="${id}", ts="${ts}", nonce="${nonce}"`;
  if (hash) out += `, hash="${hash}"`;
  if (e) out += `, ext="${e}"`;
  return `${out}, mac="${mac}"`;
}

// nonce is six random URL-safe base64 characters, as hawk picks them.
export function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return base64(bytes).slice(0, 6).replace(/\+/g, "-").replace(/\//g, "_");
}

// sign returns the Authorization header for a request with credentials
// {clientId, accessToken, certificate?, authorizedScopes?}. opts may fix ts
// (seconds), nonce, and a payload (with its content type) to hash.
export async function sign(creds, method, url, opts = {}) {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const hash = opts.payload !== undefined && opts.payload !== null ? await payloadHash(opts.contentType, opts.payload) : "";
  return header({
    id: creds.clientId, key: creds.accessToken, method, url, ts,
    nonce: opts.nonce ?? nonce(), hash, ext: ext(creds),
  });
}
