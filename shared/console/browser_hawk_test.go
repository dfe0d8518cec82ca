//go:build integration

package console_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/shared/auth"
)

// hawkVectorCheck runs in the console page: it imports the console's own
// signer module (by its hashed URL, as the page does) and checks it against
// every vector, returning what it checked and what differed.
const hawkVectorCheck = `(async (v) => {
  const href = [...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href)
    .find((u) => /\/js\/hawk\.[0-9a-f]{12}\.js$/.test(u));
  const hawk = await import(href);
  const fails = [];
  let checked = 0;
  const eq = (name, what, got, want) => {
    checked++;
    if (got !== want) fails.push(name + ": " + what + "\n got  " + JSON.stringify(got) + "\n want " + JSON.stringify(want));
  };
  for (const c of [...v.hawkHeader, ...v.tempCredentialRequests]) {
    const i = c.input, d = c.derived;
    const t = hawk.target(i.url);
    eq(c.name, "resource", t.resource, d.resource);
    eq(c.name, "host", t.host.toLowerCase(), d.host);
    eq(c.name, "port", t.port, d.port);
    if (i.payload !== null) eq(c.name, "payload hash", await hawk.payloadHash(i.contentType, i.payload), d.payloadHash);
    const ns = hawk.normalizedString({ts: i.ts, nonce: i.nonce, method: i.method, resource: d.resource, host: d.host, port: d.port, hash: d.payloadHash || "", ext: i.ext || ""});
    eq(c.name, "normalized string", ns, d.normalizedString);
    eq(c.name, "mac", await hawk.hmac(i.credentials.key, ns), d.mac);
    eq(c.name, "header", await hawk.header({id: i.credentials.id, key: i.credentials.key, method: i.method, url: i.url,
      ts: i.ts, nonce: i.nonce, hash: d.payloadHash || "", ext: i.ext || ""}), c.authorization);
    if (c.clientOptions) {
      const creds = {...c.clientOptions.credentials, authorizedScopes: c.clientOptions.authorizedScopes};
      eq(c.name, "ext from credentials", hawk.ext(creds), i.ext || "");
      eq(c.name, "signed from credentials", await hawk.sign(creds, i.method, i.url,
        {ts: i.ts, nonce: i.nonce, payload: d.payloadHash ? i.payload : undefined, contentType: i.contentType}), c.authorization);
    }
  }
  for (const c of v.payloadHash) {
    eq("payloadHash " + JSON.stringify(c.payload) + " " + c.contentType, "hash", await hawk.payloadHash(c.contentType, c.payload), c.hash);
  }
  for (const c of v.hawkUpstream) {
    const i = c.input;
    const t = hawk.target(i.url);
    const hash = i.payload !== undefined ? await hawk.payloadHash(i.contentType, i.payload) : "";
    if (c.payloadHash) eq(c.name, "payload hash", hash, c.payloadHash);
    const ns = hawk.normalizedString({ts: i.timestamp, nonce: i.nonce, method: i.method, ...t, hash, ext: i.ext || ""});
    eq(c.name, "normalized string", ns, c.normalizedString);
    eq(c.name, "header", await hawk.header({id: i.credentials.id, key: i.credentials.key, method: i.method, url: i.url,
      ts: i.timestamp, nonce: i.nonce, hash, ext: i.ext || ""}), c.authorization);
  }
  for (const c of v.capturedClientRequests) {
    const creds = c.clientOptions.credentials;
    if (!creds.clientId) continue; // an unsigned request
    const r = c.request, a = r.authorizationParsed;
    const withScopes = {...creds, authorizedScopes: c.clientOptions.authorizedScopes};
    eq(c.name, "captured header", await hawk.sign(withScopes, r.method, c.rootUrl + r.requestTarget, {ts: Number(a.ts), nonce: a.nonce}), r.authorization);
  }
  // Nonces look like hawk's: six URL-safe base64 characters.
  for (let n = 0; n < 50; n++) {
    const nonce = hawk.nonce();
    if (!/^[A-Za-z0-9_-]{6}$/.test(nonce)) fails.push("nonce " + nonce);
  }
  return {checked, fails};
})`

// TestBrowser_HawkVectors checks the console's signer, running in
// Chromium's WebCrypto, against the Hawk vectors the Go signer is checked
// against (testdata/hawk-vectors.json, from the reference vectors).
func TestBrowser_HawkVectors(t *testing.T) {
	vectors, err := os.ReadFile("testdata/hawk-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil)
	b := newBrowser(t)
	b.do("open", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	var res struct {
		Checked int      `json:"checked"`
		Fails   []string `json:"fails"`
	}
	b.eval("run the vectors", hawkVectorCheck+"("+string(vectors)+")", &res)
	if len(res.Fails) > 0 {
		t.Errorf("%d of %d checks failed:\n%s", len(res.Fails), res.Checked, strings.Join(res.Fails, "\n"))
	}
	if res.Checked < 150 {
		t.Errorf("only %d checks ran", res.Checked)
	}
	t.Logf("%d checks of the browser signer against the Hawk vectors", res.Checked)
}

// Temporary credentials, as a Taskcluster deployment hands them out, sign
// the console's requests (the certificate goes in ext), and restricting
// them to fewer scopes (authorizedScopes) is what the server then sees.
func TestBrowser_TemporaryCredentials(t *testing.T) {
	s := startServe(t, nil)
	now := time.Now()
	temp, err := auth.CreateNamedTemporaryCredentials(s.root, "root/console-test", []string{"hooks:list-hooks:*", "hooks:get:*", "hookline:kill-switch"}, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pasted, _ := json.Marshal(map[string]string{"clientId": temp.ClientID, "accessToken": temp.AccessToken, "certificate": temp.Certificate})
	b := newBrowser(t)
	b.do("open", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	b.do("sign in", chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("signin-client")),
		chromedp.Click(chromedp.CSS("#signin-dialog details summary")))
	b.setText("paste", "#signin-json", string(pasted))
	b.waitJS("certificate filled in", `document.getElementById("signin-certificate").value.includes('"issuer":"root"')`)
	b.setText("restrict", "#signin-scopes", "hooks:list-hooks:*\nhooks:get:*")
	b.do("submit", chromedp.Click(chromedp.ID("signin-submit")))
	b.waitText("signed in", "#who-client", "root/console-test")
	var scopes []string
	b.eval("scopes", `[...document.querySelectorAll("#who .scopes li")].map((li) => li.textContent)`, &scopes)
	if strings.Join(scopes, " ") != "assume:anonymous hooks:get:* hooks:list-hooks:*" {
		t.Fatalf("scopes shown: %v", scopes)
	}
	// The list loads with them; the kill switch, left out of
	// authorizedScopes, cannot be engaged.
	b.waitJS("listed", `document.getElementById("hook-count")?.textContent.includes("0 hooks")`)
	b.do("operate", chromedp.Navigate(s.base+"/console/#/operate"), chromedp.WaitVisible(chromedp.CSS(".pause-form")))
	b.waitJS("kill switch disabled", `document.querySelector(".pause-form button[type=submit]").disabled`)
	b.waitText("says why", ".pause-form", "Needs hookline:kill-switch")
}
