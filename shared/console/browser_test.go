//go:build integration

package console_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/shared/auth"
)

// The hook the scenario creates: a trigger schema with an enum, a bounded
// integer and an optional boolean, so the fire form has a select, a number
// and a tri-state choice.
const scenarioHook = `{
  "metadata": {"name": "Build", "description": "Builds a branch", "owner": "ci@example.com", "emailOnError": false},
  "schedule": ["0 0 3 * * *"],
  "triggerSchema": {
    "type": "object",
    "properties": {
      "branch": {"type": "string", "enum": ["main", "dev"], "description": "What to build"},
      "count": {"type": "integer", "minimum": 1, "maximum": 5},
      "dryRun": {"type": "boolean"}
    },
    "required": ["branch", "count"],
    "additionalProperties": false
  },
  "task": {
    "provisionerId": "proj", "workerType": "builder",
    "payload": {"branch": {"$eval": "payload.branch"}, "count": {"$eval": "payload.count"}},
    "metadata": {"name": "build", "description": "build a branch", "owner": "ci@example.com", "source": "https://example.com/ci"}
  }%s
}`

// TestBrowser_Scenario walks the console as a hook owner would, in a real
// Chromium against a real `hookline serve`: sign in with the generated root
// credentials, create a hook (a schema error shown inline, then fixed),
// fire it through the generated form, see the created decision and task
// link, pause it and see the next fire become a paused decision, replay
// that after resuming, set a GitHub webhook secret and see only its
// fingerprint, and sign out.
func TestBrowser_Scenario(t *testing.T) {
	s := startServe(t, nil)
	if s.root.ClientID == "" {
		t.Fatal("serve wrote no root token")
	}
	b := newBrowser(t)

	b.do("open the console", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	b.waitText("anonymous", "#who-client", "Not signed in")

	// Sign in with the root credentials.
	b.do("sign in",
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("signin-client")),
		chromedp.SendKeys(chromedp.ID("signin-client"), "root"),
		chromedp.SendKeys(chromedp.ID("signin-token"), s.root.AccessToken),
		chromedp.Click(chromedp.ID("signin-submit")))
	b.waitText("signed in", "#who-client", "root")
	var session string
	b.eval("credentials in sessionStorage", `sessionStorage.getItem("hookline.credentials") || ""`, &session)
	if !strings.Contains(session, `"clientId":"root"`) {
		t.Fatalf("sessionStorage holds %q", session)
	}
	var cookies string
	b.eval("no cookies", `document.cookie`, &cookies)
	if cookies != "" {
		t.Fatalf("cookies: %q", cookies)
	}

	// Create a hook: first with a property the schema refuses.
	b.do("new hook", chromedp.WaitVisible(chromedp.ID("new-hook")), chromedp.Click(chromedp.ID("new-hook")), chromedp.WaitVisible(chromedp.ID("new-group")))
	b.do("ids", chromedp.SendKeys(chromedp.ID("new-group"), "ci"), chromedp.SendKeys(chromedp.ID("new-hook-id"), "build"))
	b.setText("definition with an error", "#definition", fmt.Sprintf(scenarioHook, `,
  "colour": "red"`))
	b.do("save", chromedp.Click(chromedp.ID("save-hook")))
	b.waitText("schema error inline", "#definition-problems", "colour")
	b.waitText("schema error code", "#definition-problems", "InputValidationError")
	b.screenshot("editor-error")
	// The problem names its line; following it selects that line.
	b.do("go to the line", chromedp.Click(chromedp.CSS("#definition-problems .problem-list button")))
	var selected string
	b.eval("selection", `(() => { const a = document.getElementById("definition"); return a.value.slice(a.selectionStart, a.selectionEnd); })()`, &selected)
	if !strings.Contains(selected, `"colour"`) || document(b, "activeElement.id") != "definition" {
		t.Fatalf("the problem's line selects %q", selected)
	}
	// Fix it and save.
	b.setText("fixed definition", "#definition", fmt.Sprintf(scenarioHook, ""))
	b.do("save again", chromedp.Click(chromedp.ID("save-hook")))
	b.waitJS("hook page", `location.hash === "#/hooks/ci/build"`)
	b.waitText("overview", "main h1", "build")
	b.waitJS("next fires listed", `document.querySelectorAll("#next-fires #schedule-listing tbody tr[data-kind=fire]").length === 5`)
	b.waitJS("focus moves to the page heading", `document.activeElement?.tagName === "H1"`)
	b.checkLabels("hook")

	// Update it: the change is shown before it is saved.
	b.do("edit tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/edit"]`)))
	b.waitJS("editor", `document.getElementById("definition")?.value.includes("Builds a branch")`)
	b.checkLabels("edit")
	var def string
	b.eval("definition", `document.getElementById("definition").value`, &def)
	b.setText("edit", "#definition", strings.Replace(def, `"Builds a branch"`, `"Builds a branch on demand"`, 1))
	b.do("review", chromedp.Click(chromedp.ID("save-hook")), chromedp.WaitVisible(chromedp.CSS("dialog .diff")))
	b.waitText("removed line", "dialog .diff-del", `"description": "Builds a branch",`)
	b.waitText("added line", "dialog .diff-add", `"description": "Builds a branch on demand",`)
	b.do("save", chromedp.Click(chromedp.CSS(`dialog button[data-value="save"]`)))
	b.waitText("saved", "#status", "Saved ci/build")
	var stored struct {
		Metadata struct{ Description string } `json:"metadata"`
	}
	s.call(t, s.root, "GET", "/api/hooks/v1/hooks/ci/build", nil, &stored)
	if stored.Metadata.Description != "Builds a branch on demand" {
		t.Fatalf("saved description %q", stored.Metadata.Description)
	}

	// Fire it through the generated form.
	b.do("fire tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/fire"]`)), chromedp.WaitVisible(chromedp.CSS(`select[name="branch"]`)))
	if n := b.count(`input[name="count"][type="number"]`); n != 1 {
		t.Fatalf("no number input for count (%d)", n)
	}
	if n := b.count(`select[name="dryRun"]`); n != 1 {
		t.Fatalf("no choice for the optional boolean dryRun (%d)", n)
	}
	b.do("too small", chromedp.SendKeys(chromedp.CSS(`input[name="count"]`), "0"))
	b.waitText("validated as you type", "#payload-summary", "at least 1")
	b.setText("count", `input[name="count"]`, "2")
	b.waitText("valid", "#payload-summary", "matches the trigger schema")
	b.do("check", chromedp.Click(chromedp.ID("check-hook")))
	b.waitText("check report", "#check-result", "Rendered task")
	b.waitText("rendered payload", "#check-result", `"branch": "main"`)
	b.checkLabels("fire")
	b.screenshot("fire")
	b.do("fire", chromedp.Click(chromedp.ID("fire-hook")))
	b.waitJS("fired", `!!document.getElementById("fired-task")`)
	var taskID, taskHref, key string
	b.eval("task link", `document.getElementById("fired-task").textContent`, &taskID)
	b.eval("task href", `document.getElementById("fired-task").href`, &taskHref)
	b.eval("key", `document.getElementById("idempotency-key").textContent`, &key)
	if want := s.base + "/api/queue/v1/task/" + taskID; taskHref != want {
		t.Fatalf("task link %q, want %q", taskHref, want)
	}
	if !strings.HasPrefix(key, "Idempotency-Key: ") {
		t.Fatalf("idempotency key shown as %q", key)
	}
	res, err := http.Get(taskHref)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("task link answers %d", res.StatusCode)
	}

	// The decision log shows the created decision and the task.
	b.do("decisions", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/decisions"]`)))
	b.waitJS("created decision", `!!document.querySelector('#decision-list li[data-outcome="created"]')`)
	b.waitText("task in the log", "#decision-list", taskID)
	b.waitText("task in last fires", "#last-fires", taskID)

	// Pause; the next fire is a paused decision.
	b.do("operate", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/operate"]`)), chromedp.WaitVisible(chromedp.CSS(".pause-form input")))
	b.do("pause without a reason", chromedp.Click(chromedp.CSS(".pause-form button[type=submit]")))
	b.waitText("reason required", ".pause-form", "Give a reason")
	b.do("pause", chromedp.SendKeys(chromedp.CSS(".pause-form input"), "INC-7: bad deploy"), chromedp.Click(chromedp.CSS(".pause-form button[type=submit]")))
	b.waitText("paused", ".pause-state", "INC-7: bad deploy")
	b.do("fire while paused", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/fire"]`)), chromedp.WaitVisible(chromedp.CSS(`select[name="branch"]`)))
	b.setText("count", `input[name="count"]`, "1")
	b.do("fire", chromedp.Click(chromedp.ID("fire-hook")))
	b.waitText("refused", "#fire-result", "RequestConflict")
	b.waitText("refusal names the pause", "#fire-result", "INC-7")
	b.do("decisions", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/decisions"]`)))
	b.waitJS("paused decision", `!!document.querySelector('#decision-list li[data-outcome="paused"]')`)
	b.checkLabels("decisions")
	b.screenshot("decisions")

	// Filtering by outcome hides the others.
	b.do("only paused", chromedp.Click(chromedp.ID("outcome-created")))
	b.waitJS("created hidden", `document.querySelector('#decision-list li[data-outcome="created"]').hidden && !document.querySelector('#decision-list li[data-outcome="paused"]').hidden`)
	b.do("all again", chromedp.Click(chromedp.ID("outcome-created")))

	// Resume, then replay the paused fire.
	b.do("operate", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/operate"]`)))
	b.waitText("still paused", ".pause-state", "INC-7")
	b.do("resume", chromedp.Click(chromedp.CSS(".pause-form button[type=button]")))
	b.waitText("resumed", ".pause-state", "not paused")
	b.do("decisions", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/decisions"]`)))
	b.waitJS("paused decision", `!!document.querySelector('#decision-list li[data-outcome="paused"]')`)
	b.do("open it", chromedp.Click(chromedp.CSS(`#decision-list li[data-outcome="paused"] summary`)))
	b.do("replay", chromedp.Click(chromedp.CSS(`#decision-list li[data-outcome="paused"] button.replay`)))
	b.waitText("replayed", `#decision-list li[data-outcome="paused"] .replay-result`, "created")
	var created int
	b.eval("created decisions", `document.querySelectorAll('#decision-list li[data-outcome="created"]').length`, &created)
	if created != 2 {
		t.Fatalf("%d created decisions after the replay, want 2", created)
	}
	var log struct {
		Decisions []struct {
			Outcome  string `json:"outcome"`
			ReplayOf string `json:"replayOf"`
		} `json:"decisions"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/build/decisions", nil, &log)
	if len(log.Decisions) != 3 || log.Decisions[0].Outcome != "created" || log.Decisions[0].ReplayOf == "" {
		t.Fatalf("decision log after replay: %+v", log.Decisions)
	}

	// A GitHub webhook secret: only its fingerprint comes back.
	const secret = "correct-horse-battery-staple-42"
	sum := sha256.Sum256([]byte(secret))
	fp := "sha256:" + hex.EncodeToString(sum[:])[:8]
	b.do("operate", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/operate"]`)), chromedp.WaitVisible(chromedp.ID("webhook-secret")))
	var url string
	b.eval("webhook url", `document.getElementById("webhook-url").value`, &url)
	if url != s.base+"/api/hookline/v1/hooks/ci/build/webhook" {
		t.Fatalf("webhook URL %q", url)
	}
	b.do("github", chromedp.SetValue(chromedp.ID("webhook-scheme"), "github"), chromedp.SendKeys(chromedp.ID("webhook-secret"), secret),
		chromedp.Click(chromedp.ID("save-webhook")))
	b.waitText("fingerprint shown", "#webhook-fingerprints", fp)
	var page string
	b.eval("page text and values", `document.body.innerText + [...document.querySelectorAll("input, textarea")].map(e => e.value).join(" ")`, &page)
	if strings.Contains(page, secret) {
		t.Fatal("the secret is still on the page after saving")
	}
	var settings struct {
		Webhook struct {
			Scheme       string   `json:"scheme"`
			Fingerprints []string `json:"secretFingerprints"`
		} `json:"webhook"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/build/settings", nil, &settings)
	if settings.Webhook.Scheme != "github" || len(settings.Webhook.Fingerprints) != 1 || settings.Webhook.Fingerprints[0] != fp {
		t.Fatalf("settings after save: %+v", settings)
	}
	// Rotation: a new secret, keeping the current one, which must be typed
	// again (secrets are write-only) and is checked against its fingerprint.
	const secret2 = "second-secret-for-the-rotation"
	sum2 := sha256.Sum256([]byte(secret2))
	fp2 := "sha256:" + hex.EncodeToString(sum2[:])[:8]
	b.do("rotate", chromedp.SendKeys(chromedp.ID("webhook-secret"), secret2), chromedp.Click(chromedp.ID("webhook-keep-old")),
		chromedp.SendKeys(chromedp.ID("webhook-old-secret"), "not-the-current-secret-00"), chromedp.Click(chromedp.ID("save-webhook")))
	b.waitText("wrong current secret", "#webhook-form", "That is not a current secret")
	b.setText("the current secret", "#webhook-old-secret", secret)
	b.do("save", chromedp.Click(chromedp.ID("save-webhook")))
	b.waitJS("both fingerprints", fmt.Sprintf(`(() => { const t = document.getElementById("webhook-fingerprints").textContent; return t.indexOf(%q) >= 0 && t.indexOf(%q) > t.indexOf(%q); })()`, fp2, fp, fp2))
	b.eval("page text and values", `document.body.innerText + [...document.querySelectorAll("input, textarea")].map(e => e.value).join(" ")`, &page)
	if strings.Contains(page, secret2) || strings.Contains(page, secret) {
		t.Fatal("a secret is still on the page after saving")
	}
	// Filters, each evaluated against a sample payload by the server.
	b.do("add a filter", chromedp.Click(chromedp.ID("add-filter")))
	b.do("type it", chromedp.SendKeys(chromedp.CSS(".filter-input"), `payload.branch == "main"`))
	b.setText("sample", "#filter-sample", `{"branch": "dev", "count": 1}`)
	b.waitText("false for dev", "#filter-list .verdict", "would not fire")
	b.setText("sample", "#filter-sample", `{"branch": "main", "count": 1}`)
	b.waitText("true for main", "#filter-list .verdict", "true for this sample")
	b.do("a filter that does not parse", chromedp.SendKeys(chromedp.CSS(".filter-input"), " &&"))
	b.waitText("parse error shown", "#filter-list .verdict", "InputError")
	b.setText("fix it", ".filter-input", `payload.branch == "main"`)
	b.waitText("true again", "#filter-list .verdict", "true for this sample")
	b.do("save filters", chromedp.Click(chromedp.ID("save-filters")))
	b.waitText("filters saved", "#filters-form", "Saved 1 filter")
	var saved struct {
		Filters []string `json:"filters"`
		Webhook struct {
			Fingerprints []string `json:"secretFingerprints"`
		} `json:"webhook"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/build/settings", nil, &saved)
	if len(saved.Filters) != 1 || saved.Filters[0] != `payload.branch == "main"` || len(saved.Webhook.Fingerprints) != 2 {
		t.Fatalf("settings after saving filters: %+v", saved)
	}
	b.checkLabels("operate")
	b.screenshot("operate")

	// The kill switch: a banner on every page while it is on.
	b.do("operate everything", chromedp.Click(chromedp.CSS(`a[data-nav="operate"]`)), chromedp.WaitVisible(chromedp.CSS(".pause-form input")))
	b.checkLabels("operate everything")
	b.do("engage", chromedp.SendKeys(chromedp.CSS(".pause-form input"), "queue outage"), chromedp.Click(chromedp.CSS(".pause-form button[type=submit]")))
	b.waitText("banner", "#banner .killswitch", "queue outage")
	b.waitText("banner names who", "#banner .killswitch", "root")
	b.screenshot("killswitch")
	b.do("release", chromedp.Click(chromedp.CSS(".pause-form button[type=button]")))
	b.waitJS("banner gone", `document.getElementById("banner").children.length === 0`)

	// The list shows the hook with its last fire and next date.
	b.do("list", chromedp.Navigate(s.base+"/console/#/"), chromedp.WaitVisible(chromedp.CSS("#hook-list .hooks")))
	b.waitJS("last fire", `document.querySelector('[data-hook="build"] .last-fire')?.textContent.includes("created")`)
	b.waitJS("next fire", `!document.querySelector('[data-hook="build"] .next-fire .pending')`)
	b.screenshot("list")
	b.colorScheme("dark")
	var bg string
	b.eval("dark background", `getComputedStyle(document.documentElement).backgroundColor`, &bg)
	if bg != "rgb(15, 18, 22)" {
		t.Errorf("dark mode background %q", bg)
	}
	b.screenshot("list-dark")
	b.colorScheme("light")

	// Delete it, after a confirmation that names it.
	b.do("edit", chromedp.Click(chromedp.CSS(`[data-hook="build"] a`)), chromedp.WaitVisible(chromedp.CSS(`a[href="#/hooks/ci/build/edit"]`)),
		chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/build/edit"]`)), chromedp.WaitVisible(chromedp.ID("delete-hook")))
	b.do("delete", chromedp.Click(chromedp.ID("delete-hook")))
	b.waitText("confirmation names the hook", `dialog button[data-value="delete"]`, "Delete ci/build")
	b.do("cancel", chromedp.Click(chromedp.CSS(`dialog button[data-value="cancel"]`)))
	if s.call(t, s.root, "GET", "/api/hooks/v1/hooks/ci/build", nil, nil) != 200 {
		t.Fatal("cancelling deleted the hook")
	}
	b.waitJS("focus back on the button", `document.activeElement?.id === "delete-hook"`)
	b.do("delete", chromedp.Click(chromedp.ID("delete-hook")), chromedp.Click(chromedp.CSS(`dialog button[data-value="delete"]`)))
	b.waitJS("back to the list", `location.hash === "#/"`)
	b.waitText("deleted", "#status", "Deleted hook ci/build")
	if status := s.call(t, s.root, "GET", "/api/hooks/v1/hooks/ci/build", nil, nil); status != 404 {
		t.Fatalf("hook after delete: %d", status)
	}

	// Sign out: the credentials leave the tab.
	b.do("sign out", chromedp.Click(chromedp.ID("sign-out")))
	b.waitText("signed out", "#who-client", "Not signed in")
	b.eval("credentials gone", `sessionStorage.getItem("hookline.credentials") || ""`, &session)
	if session != "" {
		t.Fatalf("sessionStorage still holds %q", session)
	}
	b.waitJS("anonymous list refused", `!!document.querySelector("#hook-list .error")`)
	b.waitText("403 explained", "#hook-list .error", "hooks:list-hooks:")
}

// document reads a property path of document.
func document(b *browser, path string) string {
	var out string
	b.eval("document."+path, "String(document."+path+")", &out)
	return out
}

// A client whose scopes do not allow editing sees the Delete button
// disabled with the scope it needs, and a save the server refuses is
// explained (403, the missing scopes) without losing the edit.
func TestBrowser_ForbiddenEdit(t *testing.T) {
	const adminToken, viewerToken = "admin-token-0123456789abcdef", "viewer-token-0123456789abcde"
	clients := `{"clients": [
	  {"clientId": "admin", "accessToken": "` + adminToken + `", "scopes": ["*"]},
	  {"clientId": "viewer", "accessToken": "` + viewerToken + `", "scopes": ["hooks:list-hooks:*", "hooks:get:*", "hooks:status:*", "hooks:list-last-fires:*"]}]}`
	s := startServe(t, map[string]string{"HOOKLINE_CLIENTS": clients})
	admin := auth.Credentials{ClientID: "admin", AccessToken: adminToken}
	var hook map[string]any
	if status := s.call(t, admin, "PUT", "/api/hooks/v1/hooks/team/nightly", jsonBody(t, fmt.Sprintf(scenarioHook, "")), &hook); status != 200 {
		t.Fatalf("create: %d %v", status, hook)
	}

	b := newBrowser(t)
	// Credentials kept in the tab that the server no longer accepts are
	// dropped, with a word why.
	b.do("seed the session", chromedp.Navigate(s.base+"/console/nothing-here"))
	b.eval("stale credentials", `sessionStorage.setItem("hookline.credentials", '{"clientId":"viewer","accessToken":"rotated-token-0123456789abc"}'); true`, nil)
	b.do("open", chromedp.Navigate(s.base+"/console/#/hooks/team/nightly/edit"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	b.waitText("stale credentials refused", "#status", "saved credentials were refused")
	b.waitText("anonymous again", "#who-client", "Not signed in")
	b.waitText("the page explains the 403", "main .error", "Without credentials you lack the scopes")

	// A wrong token is refused in the dialog, which keeps what was typed.
	b.do("sign in", chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("signin-client")),
		chromedp.SendKeys(chromedp.ID("signin-client"), "viewer"), chromedp.SendKeys(chromedp.ID("signin-token"), "not-the-token-0123456789"),
		chromedp.Click(chromedp.ID("signin-submit")))
	b.waitText("refused", "#signin-dialog .dialog-problem", "The server refused these credentials")
	var typed string
	b.eval("kept", `document.getElementById("signin-client").value`, &typed)
	if typed != "viewer" {
		t.Fatalf("the dialog lost the clientId: %q", typed)
	}
	// Credentials can also be pasted as the JSON Taskcluster hands out.
	b.do("paste", chromedp.Click(chromedp.CSS("#signin-dialog details summary")))
	b.setText("paste", "#signin-json", `{"clientId": "viewer", "accessToken": "`+viewerToken+`"}`)
	b.do("submit", chromedp.Click(chromedp.ID("signin-submit")))
	b.waitText("signed in", "#who-client", "viewer")

	b.waitJS("editor", `document.getElementById("definition")?.value.includes("Builds a branch")`)
	var disabled bool
	b.eval("delete disabled", `document.getElementById("delete-hook").disabled`, &disabled)
	if !disabled {
		t.Fatal("Delete is enabled for a client without hooks:modify-hook")
	}
	b.waitText("delete explains", ".danger-zone", "Needs hooks:modify-hook:team/nightly")
	b.waitText("save warns", "#hook-form", "assume:hook-id:team/nightly")

	var text string
	b.eval("text", `document.getElementById("definition").value`, &text)
	edited := strings.Replace(text, "Builds a branch", "Builds a branch, nightly", 1)
	b.setText("edit", "#definition", edited)
	b.do("review", chromedp.Click(chromedp.ID("save-hook")), chromedp.WaitVisible(chromedp.CSS("dialog .diff")))
	b.waitText("diff", "dialog .diff", "+     \"description\": \"Builds a branch, nightly\"")
	b.do("save", chromedp.Click(chromedp.CSS(`dialog button[data-value="save"]`)))
	b.waitText("403 explained", "#definition-problems", "InsufficientScopes")
	b.waitText("who", "#definition-problems", "Your client viewer lacks the scopes")
	b.waitJS("missing scopes listed", `[...document.querySelectorAll("#definition-problems ul.scopes li")].map((li) => li.textContent).join(",") ===
	  "hooks:modify-hook:team/nightly,assume:hook-id:team/nightly"`)
	var after string
	b.eval("edit kept", `document.getElementById("definition").value`, &after)
	if after != edited {
		t.Fatal("the edit was lost when the save was refused")
	}
	var focused string
	b.eval("focus", `document.activeElement.closest("#definition-problems") ? "problems" : document.activeElement.tagName`, &focused)
	if focused != "problems" {
		t.Errorf("focus went to %s, not the error", focused)
	}
	b.screenshot("forbidden")

	// The schedule tab: the viewer reads the listing, but may neither save
	// the settings nor backfill; a save the server refuses is explained.
	b.do("schedule tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/team/nightly/schedule"]`)))
	b.waitJS("listing", `document.querySelectorAll("#schedule-listing tbody tr").length === 10`)
	b.waitJS("save disabled", `document.getElementById("save-schedule").disabled && document.getElementById("backfill").disabled`)
	b.waitText("save explains", "#schedule-form", "Needs hooks:modify-hook:team/nightly")
	b.waitText("backfill explains", "#backfill-form", "Needs hooks:trigger-hook:team/nightly")
	b.setText("zone", "#sched-tz", "Europe/Paris")
	b.eval("press it anyway", `document.getElementById("save-schedule").disabled = false; document.getElementById("save-schedule").click(); true`, new(bool))
	b.waitText("403 explained", "#schedule-result", "InsufficientScopes")
	b.waitText("who", "#schedule-result", "Your client viewer lacks the scopes")
	if v := document(b, `getElementById("sched-tz").value`); v != "Europe/Paris" {
		t.Fatalf("the refused save lost the zone: %q", v)
	}
	// The notify tab: the targets can be read, not saved.
	b.do("notify tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/team/nightly/notify"]`)), chromedp.WaitVisible(chromedp.ID("save-notify")))
	b.waitText("save explains", "#notify-form", "Needs hooks:modify-hook:team/nightly")
	b.waitText("the notifications can be read", "#notifications-slot", "No notifications yet")
}

func jsonBody(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowser_ThousandHooks measures, in the browser, the first load of
// the console (bytes transferred, fresh profile) and the time from
// navigation to a rendered list of 1,000 hooks, signed in.
func TestBrowser_ThousandHooks(t *testing.T) {
	s := startServe(t, nil)
	const groups, perGroup = 4, 250
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan string, groups*perGroup)
	for g := range groups {
		for i := range perGroup {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				body := jsonBody(t, fmt.Sprintf(scenarioHook, "")).(map[string]any)
				if i%3 != 0 {
					delete(body, "schedule")
				}
				if status := s.call(t, s.root, "PUT", fmt.Sprintf("/api/hooks/v1/hooks/group-%d/hook-%03d", g, i), body, nil); status != 200 {
					errs <- fmt.Sprintf("create group-%d/hook-%03d: %d", g, i, status)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}

	b := newBrowser(t)
	// Keep the credentials in the tab's sessionStorage from a console URL
	// that loads nothing (a 404), so the measured load starts cold.
	creds := fmt.Sprintf(`{"clientId":"root","accessToken":%q}`, s.root.AccessToken)
	b.do("seed the session", chromedp.Navigate(s.base+"/console/nothing-here"))
	b.eval("store credentials", `sessionStorage.setItem("hookline.credentials", `+jsString(creds)+`); true`, new(bool))
	start := time.Now()
	b.do("open the list", chromedp.Navigate(s.base+"/console/"))
	b.waitJS("listed", `performance.getEntriesByName("hookline:hooks-listed").length > 0`)
	wall := time.Since(start)
	var m struct {
		ListedMs      float64 `json:"listedMs"`
		Rows          int     `json:"rows"`
		AssetTransfer int     `json:"assetTransfer"`
		AssetEncoded  int     `json:"assetEncoded"`
		AssetDecoded  int     `json:"assetDecoded"`
		AssetFiles    int     `json:"assetFiles"`
		APITransfer   int     `json:"apiTransfer"`
		APIRequests   int     `json:"apiRequests"`
		DOMContentMs  float64 `json:"domContentMs"`
		FirstPaintMs  float64 `json:"firstPaintMs"`
		FetchedMs     float64 `json:"fetchedMs"`
		MainStartMs   float64 `json:"mainStartMs"`
	}
	b.eval("measure", `(() => {
	  const nav = performance.getEntriesByType("navigation")[0];
	  const res = performance.getEntriesByType("resource");
	  const assets = res.filter((r) => new URL(r.name).pathname.startsWith("/console/"));
	  const apis = res.filter((r) => new URL(r.name).pathname.startsWith("/api/"));
	  const sum = (list, k) => list.reduce((n, r) => n + r[k], 0);
	  const paint = performance.getEntriesByName("first-contentful-paint")[0];
	  return {
	    listedMs: performance.getEntriesByName("hookline:hooks-listed")[0].startTime,
	    fetchedMs: performance.getEntriesByName("hookline:hooks-fetched")[0].startTime,
	    mainStartMs: (assets.find((r) => /main\.[0-9a-f]+\.js$/.test(r.name)) || {}).responseEnd || 0,
	    rows: document.querySelectorAll(".hooks [role=rowgroup] [data-hook]").length,
	    assetTransfer: nav.transferSize + sum(assets, "transferSize"),
	    assetEncoded: nav.encodedBodySize + sum(assets, "encodedBodySize"),
	    assetDecoded: nav.decodedBodySize + sum(assets, "decodedBodySize"),
	    assetFiles: 1 + assets.length,
	    apiTransfer: sum(apis, "transferSize"),
	    apiRequests: apis.length,
	    domContentMs: nav.domContentLoadedEventEnd,
	    firstPaintMs: paint ? paint.startTime : 0,
	  };
	})()`, &m)
	if m.Rows != groups*perGroup {
		t.Fatalf("%d rows rendered, want %d", m.Rows, groups*perGroup)
	}
	t.Logf("first load: %d bytes transferred (%d gzipped bodies, %d uncompressed) in %d files; DOMContentLoaded %.0f ms, first paint %.0f ms",
		m.AssetTransfer, m.AssetEncoded, m.AssetDecoded, m.AssetFiles, m.DOMContentMs, m.FirstPaintMs)
	t.Logf("1,000 hooks: listed %.0f ms after navigation (browser clock; %v wall): modules loaded by %.0f ms, hooks fetched by %.0f ms, rendered in %.0f ms; %d API requests, %d bytes",
		m.ListedMs, wall.Round(time.Millisecond), m.MainStartMs, m.FetchedMs, m.ListedMs-m.FetchedMs, m.APIRequests, m.APITransfer)
	if m.AssetTransfer > 100_000 {
		t.Errorf("first load transferred %d bytes, over the 100 KB budget", m.AssetTransfer)
	}
	if m.AssetEncoded >= m.AssetDecoded {
		t.Errorf("assets were not compressed: %d encoded, %d decoded", m.AssetEncoded, m.AssetDecoded)
	}

	// The search narrows the list.
	b.do("search", chromedp.SendKeys(chromedp.ID("hook-search"), "group-2/hook-01"))
	b.waitText("count", "#hook-count", "10 of 1000 hooks match")
	if os.Getenv("HOOKLINE_SCREENSHOTS") != "" {
		b.screenshot("search")
	}
}

// nightlyHook fires daily at 03:00 (in UTC until its settings give a
// zone), and on demand; its tasks go to proj/builder, where the test plays
// the worker.
const nightlyHook = `{
  "metadata": {"name": "Nightly", "description": "Builds every night", "owner": "ci@example.com", "emailOnError": false},
  "schedule": ["0 0 3 * * *"],
  "triggerSchema": {"type": "object"},
  "task": {
    "provisionerId": "proj", "workerType": "builder",
    "payload": {"firedBy": {"$eval": "firedBy"}},
    "metadata": {"name": "nightly", "description": "the nightly build", "owner": "ci@example.com", "source": "https://example.com/ci"}
  }
}`

// TestBrowser_ScheduleOutcomesNotify walks what came after the first
// console: the schedule settings (an error from the schema and one from
// the server's checks shown at their fields, then a time zone, a jitter
// and an exclusion, seen in the listing), a backfill confirmed and
// continued, notify targets saved with a webhook secret seen only as its
// fingerprint, tasks resolved through the local queue's worker endpoints
// (failed, exception, completed) shown as outcomes in the last fires, the
// timeline and its filters, the notifications those outcomes sent, and
// the hook list's last fire with its task's outcome.
func TestBrowser_ScheduleOutcomesNotify(t *testing.T) {
	s := startServe(t, nil)
	var created map[string]any
	if status := s.call(t, s.root, "PUT", "/api/hooks/v1/hooks/ci/nightly", jsonBody(t, nightlyHook), &created); status != 200 {
		t.Fatalf("create: %d %v", status, created)
	}
	b := newBrowser(t)
	creds := fmt.Sprintf(`{"clientId":"root","accessToken":%q}`, s.root.AccessToken)
	b.do("seed the session", chromedp.Navigate(s.base+"/console/nothing-here"))
	b.eval("store credentials", `sessionStorage.setItem("hookline.credentials", `+jsString(creds)+`); true`, new(bool))

	// The schedule tab lists the upstream schedule's next fires, in UTC.
	b.do("schedule tab", chromedp.Navigate(s.base+"/console/#/hooks/ci/nightly/schedule"))
	b.waitJS("listing", `document.querySelectorAll("#schedule-listing tbody tr[data-kind=fire]").length === 10`)
	b.waitText("UTC by default", "#schedule-view .schedule-facts", "Time zone UTC")
	b.checkLabels("schedule")

	// A value the schema refuses, then one the server's checks refuse:
	// each shown at its field, and nothing typed is lost.
	b.do("catch-up all", chromedp.SetValue(chromedp.ID("sched-catchup"), "all"))
	b.eval("tell the page", `document.getElementById("sched-catchup").dispatchEvent(new Event("change")); true`, new(bool))
	b.setText("too many", "#sched-maxcatchup", "5000")
	b.setText("a zone that does not exist", "#sched-tz", "Europe/Berlinx")
	b.do("save", chromedp.Click(chromedp.ID("save-schedule")))
	b.waitText("schema error at its field", "#schedule-form .field:has(#sched-maxcatchup) .field-error", "less than or equal to 1000")
	b.waitText("schema error summed up", "#schedule-result", "InputValidationError")
	b.waitJS("focus on the field", `document.activeElement?.id === "sched-maxcatchup"`)
	b.setText("fewer", "#sched-maxcatchup", "5")
	b.do("save again", chromedp.Click(chromedp.ID("save-schedule")))
	b.waitText("zone error at its field", "#schedule-form .field:has(#sched-tz) .field-error", "is not an IANA time zone name")
	b.waitJS("the other error is gone", `document.querySelector("#schedule-form .field:has(#sched-maxcatchup) .field-error").hidden`)
	if v := document(b, `getElementById("sched-maxcatchup").value`); v != "5" {
		t.Fatalf("maxCatchUp lost: %q", v)
	}

	// A time zone, a jitter and an exclusion of the next slot's day.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(berlin)
	next := time.Date(now.Year(), now.Month(), now.Day(), 3, 0, 0, 0, berlin)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	excluded := next.Format("2006-01-02")
	b.setText("zone", "#sched-tz", "Europe/Berlin")
	b.setText("jitter", "#sched-jitter", "10m")
	b.setText("exclusion", "#sched-exclude", excluded)
	b.do("save", chromedp.Click(chromedp.ID("save-schedule")))
	b.waitText("saved", "#schedule-result", "Schedule saved")
	b.waitText("listing in the zone", "#schedule-view .schedule-facts", "Time zone Europe/Berlin")
	b.waitText("jitter", "#schedule-view .schedule-facts", "jitter up to 10m0s")
	var listed struct {
		Local   []string `json:"local"`
		Jitters int      `json:"jitters"`
		Skipped []string `json:"skipped"`
	}
	b.eval("rows", `(() => ({
	  local: [...document.querySelectorAll("#schedule-listing tbody tr .slot-local time")].map((t) => t.title),
	  jitters: document.querySelectorAll("#schedule-listing tbody tr[data-kind=fire] .jitter").length,
	  skipped: [...document.querySelectorAll("#schedule-listing tbody tr[data-kind=skipped]")].map((r) => r.dataset.reason + " " + r.textContent),
	}))()`, &listed)
	if len(listed.Local) != 11 || !strings.HasSuffix(listed.Local[0], "T03:00:00+01:00") {
		t.Fatalf("local slots: %v", listed.Local)
	}
	if listed.Jitters < 8 {
		t.Errorf("only %d of 10 fires show a jitter", listed.Jitters)
	}
	if len(listed.Skipped) != 1 || !strings.HasPrefix(listed.Skipped[0], "exclusion ") || !strings.Contains(listed.Skipped[0], "excluded by schedule.exclude "+excluded) {
		t.Fatalf("skipped: %v", listed.Skipped)
	}
	var stored struct {
		Schedule map[string]any `json:"schedule"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/settings", nil, &stored)
	if stored.Schedule["timeZone"] != "Europe/Berlin" || stored.Schedule["jitter"] != "10m" || stored.Schedule["catchUp"] != "all" || stored.Schedule["maxCatchUp"] != 5.0 {
		t.Fatalf("stored schedule %v", stored.Schedule)
	}

	// The overview shows the same listing, and the outcome so far.
	b.do("overview", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/nightly"]`)))
	b.waitJS("next fires on the overview", `document.querySelectorAll("#next-fires #schedule-listing tbody tr").length >= 5`)
	b.waitText("skipped slot on the overview", "#next-fires tr[data-kind=skipped]", "excluded")
	b.screenshot("hook")

	// Notify targets: a webhook without a secret is refused at its target;
	// with one, only its fingerprint comes back.
	const secret = "notify-secret-0123456789abcdef"
	sum := sha256.Sum256([]byte(secret))
	fp := "sha256:" + hex.EncodeToString(sum[:])[:8]
	b.do("notify tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/nightly/notify"]`)), chromedp.WaitVisible(chromedp.ID("add-target")))
	b.waitText("no notifications yet", "#notifications-slot", "No notifications yet")
	b.do("add an email target", chromedp.Click(chromedp.ID("add-target")))
	b.do("address", chromedp.SendKeys(chromedp.CSS(`.notify-target:nth-of-type(1) input[name=destination]`), "team@example.com"))
	b.do("add a webhook target", chromedp.Click(chromedp.ID("add-target")))
	target2 := `#notify-targets .notify-target:nth-of-type(2) `
	b.do("webhook", chromedp.SetValue(chromedp.CSS(target2+`select[name=type]`), "webhook"))
	b.eval("tell the page", `document.querySelector(`+jsString(target2+`select[name=type]`)+`).dispatchEvent(new Event("change")); true`, new(bool))
	b.do("url", chromedp.SendKeys(chromedp.CSS(target2+`input[name=destination]`), "https://ops.example.com/hookline"))
	b.eval("events: hook-paused only", `[...document.querySelectorAll(`+jsString(target2+`input[name=event]`)+`)].forEach((c) => { c.checked = c.value === "hook-paused"; }); true`, new(bool))
	b.do("save without a secret", chromedp.Click(chromedp.ID("save-notify")))
	b.waitText("refused at its target", target2+"> .field-error", "needs a secret")
	b.checkLabels("notify")
	b.do("secret", chromedp.SendKeys(chromedp.CSS(target2+`input[name=secret]`), secret), chromedp.Click(chromedp.ID("save-notify")))
	b.waitText("saved", "#notify-result", "Saved 2 notify targets")
	b.waitText("fingerprint shown", target2+".secret-fingerprint", fp)
	var page string
	b.eval("page text and values", `document.body.innerText + [...document.querySelectorAll("input, textarea")].map(e => e.value).join(" ")`, &page)
	if strings.Contains(page, secret) {
		t.Fatal("the notify secret is still on the page after saving")
	}
	var notify struct {
		Notify struct {
			Targets []map[string]any `json:"targets"`
		} `json:"notify"`
		Schedule map[string]any `json:"schedule"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/settings", nil, &notify)
	if ts := notify.Notify.Targets; len(ts) != 2 || ts[0]["address"] != "team@example.com" || ts[1]["url"] != "https://ops.example.com/hookline" || ts[1]["secretFingerprint"] != fp ||
		fmt.Sprint(ts[0]["events"]) != "[fire-error task-failed task-exception]" || fmt.Sprint(ts[1]["events"]) != "[hook-paused]" {
		t.Fatalf("notify targets %v", notify.Notify.Targets)
	}
	if notify.Schedule["timeZone"] != "Europe/Berlin" {
		t.Fatalf("saving the notify settings lost the schedule: %v", notify.Schedule)
	}

	// Backfill the last three days, two slots a call: confirmed first,
	// then continued.
	b.do("schedule tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/nightly/schedule"]`)), chromedp.WaitVisible(chromedp.ID("bf-from")))
	end := time.Now().UTC().Truncate(time.Second)
	b.setText("from", "#bf-from", end.Add(-72*time.Hour).Format(time.RFC3339))
	b.setText("to", "#bf-to", end.Format(time.RFC3339))
	b.setText("max", "#bf-max", "2")
	b.do("backfill", chromedp.Click(chromedp.ID("backfill")))
	b.waitText("the confirmation names the hook", "dialog", "Backfill ci/nightly?")
	b.do("cancel", chromedp.Click(chromedp.CSS(`dialog button[data-value="cancel"]`)))
	var log struct {
		Decisions []struct {
			Outcome  string `json:"outcome"`
			Backfill bool   `json:"backfill"`
			TaskID   string `json:"taskId"`
		} `json:"decisions"`
	}
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/decisions", nil, &log)
	if len(log.Decisions) != 0 {
		t.Fatalf("cancelling backfilled: %+v", log.Decisions)
	}
	b.do("backfill", chromedp.Click(chromedp.ID("backfill")), chromedp.Click(chromedp.CSS(`dialog button[data-value="backfill"]`)))
	b.waitJS("two slots", `document.querySelectorAll("#backfill-result tbody tr[data-outcome=created]").length === 2`)
	b.do("continue", chromedp.WaitVisible(chromedp.ID("backfill-continue")), chromedp.Click(chromedp.ID("backfill-continue")))
	b.waitJS("the third", `document.querySelectorAll("#backfill-result tbody tr[data-outcome=created]").length === 3 && !document.getElementById("backfill-continue")`)
	b.waitText("summed up", "#backfill-summary", "3 created")
	b.screenshot("schedule")
	s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/decisions", nil, &log)
	if len(log.Decisions) != 3 {
		t.Fatalf("after the backfill: %+v", log.Decisions)
	}
	for _, d := range log.Decisions {
		if d.Outcome != "created" || !d.Backfill || d.TaskID == "" {
			t.Fatalf("backfill decision %+v", d)
		}
	}

	// A fire, then a worker: the fired task fails, the oldest backfilled
	// one ends in an exception, the others complete.
	var fired struct {
		TaskID string `json:"taskId"`
	}
	if status := s.call(t, s.root, "POST", "/api/hooks/v1/hooks/ci/nightly/trigger", map[string]any{"branch": "main", "count": 1}, &fired); status != 200 {
		t.Fatalf("trigger: %d", status)
	}
	var claimed struct {
		Tasks []struct {
			Status struct {
				TaskID string `json:"taskId"`
			} `json:"status"`
			RunID int `json:"runId"`
		} `json:"tasks"`
	}
	if status := s.call(t, s.root, "POST", "/api/queue/v1/claim-work/proj/builder", map[string]any{"workerGroup": "console", "workerId": "test", "tasks": 10}, &claimed); status != 200 || len(claimed.Tasks) != 4 {
		t.Fatalf("claimWork: %d %+v", status, claimed)
	}
	exceptionTask := log.Decisions[2].TaskID // the oldest slot's
	for _, c := range claimed.Tasks {
		report, body := "completed", any(nil)
		switch c.Status.TaskID {
		case fired.TaskID:
			report = "failed"
		case exceptionTask:
			report, body = "exception", map[string]string{"reason": "malformed-payload"}
		}
		if status := s.call(t, s.root, "POST", fmt.Sprintf("/api/queue/v1/task/%s/runs/%d/%s", c.Status.TaskID, c.RunID, report), body, nil); status != 200 {
			t.Fatalf("report %s %s: %d", c.Status.TaskID, report, status)
		}
	}
	eventually(t, "every outcome recorded", func() bool {
		var d struct {
			Decisions []struct {
				Task *struct{} `json:"task"`
			} `json:"decisions"`
		}
		s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/decisions", nil, &d)
		n := 0
		for _, x := range d.Decisions {
			if x.Task != nil {
				n++
			}
		}
		return n == 4
	})

	// The timeline and the last fires show each outcome; the task filter
	// narrows the timeline to the failed one.
	b.do("decisions", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/nightly/decisions"]`)))
	b.waitJS("four created decisions", `document.querySelectorAll('#decision-list li[data-outcome="created"]').length === 4`)
	const failed = `#decision-list li[data-decision][data-task-state="failed"]`
	b.waitText("the failed task", failed+" summary", fired.TaskID)
	b.waitText("its badge", failed+" summary .task-outcome", "task failed")
	b.waitText("the exception's reason", `#decision-list li[data-task-state="exception"] summary .task-outcome`, "malformed-payload")
	if n := b.count(`#decision-list li[data-backfill="true"] .badge-backfill`); n != 3 {
		t.Fatalf("%d decisions marked backfill, want 3", n)
	}
	b.waitText("last fires: the failed task", fmt.Sprintf(`#last-fires-table tr[data-task-id=%q]`, fired.TaskID), "task failed")
	b.waitText("last fires: the exception and its reason", fmt.Sprintf(`#last-fires-table tr[data-task-id=%q]`, exceptionTask), "malformed-payload")
	b.do("open the failed one", chromedp.Click(chromedp.CSS(failed+" summary")))
	b.waitText("the outcome's facts", failed+" .task-facts", "Resolved")
	b.checkLabels("decisions with outcomes")
	b.screenshot("outcomes")
	b.do("only failed tasks", chromedp.Click(chromedp.ID("task-completed")), chromedp.Click(chromedp.ID("task-exception")))
	var visible []string
	b.eval("visible", `[...document.querySelectorAll("#decision-list li")].filter((li) => !li.hidden).map((li) => li.dataset.taskState)`, &visible)
	if fmt.Sprint(visible) != "[failed]" {
		t.Fatalf("with only failed tasks shown, the timeline shows %v", visible)
	}
	b.do("all again", chromedp.Click(chromedp.CSS("#task-filters button")))
	b.waitJS("all shown", `[...document.querySelectorAll("#decision-list li")].every((li) => !li.hidden)`)

	// What the outcomes sent: one email per event to the team.
	eventually(t, "notifications delivered", func() bool {
		var p struct {
			Notifications []struct {
				Status string `json:"status"`
			} `json:"notifications"`
		}
		s.call(t, s.root, "GET", "/api/hookline/v1/hooks/ci/nightly/notifications", nil, &p)
		return len(p.Notifications) == 2 && p.Notifications[0].Status == "delivered" && p.Notifications[1].Status == "delivered"
	})
	b.do("notify tab", chromedp.Click(chromedp.CSS(`a[href="#/hooks/ci/nightly/notify"]`)))
	b.waitJS("two notifications", `document.querySelectorAll("#notification-list tbody tr[data-status=delivered]").length === 2`)
	b.waitText("the failure", `#notification-list tr[data-kind="task-failed"]`, "team@example.com")
	b.waitText("the exception", `#notification-list tr[data-kind="task-exception"]`, "team@example.com")
	b.screenshot("notify")

	// The list shows the last fire with its task's outcome, from the record.
	b.do("list", chromedp.Click(chromedp.CSS(`a[data-nav="hooks"]`)))
	b.waitText("last fire's outcome", `[data-hook="nightly"] .last-fire`, "task failed")
	b.waitText("its task", `[data-hook="nightly"] .last-fire`, fired.TaskID)
	b.waitJS("next fire", `!!document.querySelector('[data-hook="nightly"] .next-fire time')`)
}

// eventually polls cond until it holds, for what the server does in the
// background (recording an outcome, delivering a notification).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
