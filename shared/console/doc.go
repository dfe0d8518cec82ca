// Package console serves Hookline's web console: plain HTML, CSS and
// JavaScript modules embedded in the binary, served at /console/ by
// `hookline serve` and by the api function.
//
// The console is a client of the public API and nothing else. It signs
// requests with Hawk in the browser (WebCrypto), keeps credentials in
// sessionStorage, and offers only what a script could do with the same
// scopes. There is no framework, bundler or build step: the files under
// assets/ are what the browser runs.
//
// # Caching and hashing
//
// New reads the embedded files once and gives each a URL with a hash of its
// content (js/api.3f9a0c1b2d.js), served with a year-long immutable
// Cache-Control. Modules import each other by their plain names
// ("./api.js"); New rewrites those specifiers to the hashed names, hashing
// each module after its imports so that a change anywhere changes the URL
// of every module that depends on it. The index page, the only URL that is
// not hashed, is revalidated on every load (Cache-Control: no-cache with an
// ETag). Every file is gzipped once, on first request, for clients that
// accept it.
//
// # First load and lazy pages
//
// The index preloads js/main.js and every module it imports statically,
// so the browser fetches the first load in one round instead of one
// import level at a time. A page that few visits need (a hook's schedule
// and notify tabs) is imported with import("./x.js"): it is hashed and
// linked like the others but not preloaded, and loads when first shown.
// TestFirstLoadBudget keeps what the index names under 100 KB gzipped.
//
// # Security
//
// Every answer carries a strict Content-Security-Policy: scripts, styles and
// connections only from the console's own origin, no inline script or
// style, no framing, no plugins, and Trusted Types required, so the code
// cannot assign HTML strings to the DOM (it builds elements instead).
package console
