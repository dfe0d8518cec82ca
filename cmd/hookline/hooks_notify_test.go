package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/hooks"
)

// notifySettings is a settings section with an email target and a webhook
// target whose secret an environment variable holds.
const notifySettings = `settings:
  notify:
    targets:
      - type: email
        address: team@example.com
        events: [fire-error]
      - type: webhook
        url: https://example.com/notify
        events: [task-failed]
        secret: {fromEnv: NOTIFY_TEST_SECRET}
`

// A notify webhook target's secret is named by a variable, as the
// webhook's secrets are: a secret written out, or fromEnv anywhere else,
// is refused with its line.
func TestHookFileNotifySecrets(t *testing.T) {
	_, _, good := hookYAML(1)
	f, probs := parseHookFile(writeHookFile(t, t.TempDir(), "g/h.yaml", good+notifySettings), "g", "h")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if len(f.secrets) != 1 || f.secrets[0].env != "NOTIFY_TEST_SECRET" || f.secrets[0].name() != "notify.targets[1].secret" {
		t.Fatalf("secrets %+v", f.secrets)
	}
	filled := fillSecrets(f, func(secretRef) string { return "the-secret-value-0123456789" })
	targets := filled["notify"].(map[string]any)["targets"].([]any)
	if got := targets[1].(map[string]any)["secret"]; got != "the-secret-value-0123456789" {
		t.Errorf("filled secret %v", got)
	}
	if f.settings["notify"].(map[string]any)["targets"].([]any)[1].(map[string]any)["secret"].(map[string]any)["fromEnv"] != "NOTIFY_TEST_SECRET" {
		t.Errorf("fillSecrets changed the file's settings")
	}

	for _, tt := range []struct{ name, settings, want string }{
		{"written out", strings.Replace(notifySettings, "{fromEnv: NOTIFY_TEST_SECRET}", "the-secret-value-0123456789", 1),
			":31: error: notify.targets[1].secret: secrets never live in hook files: name an environment variable that holds it, as `secret: {fromEnv: VARIABLE}`"},
		{"fromEnv elsewhere", strings.Replace(notifySettings, "url: https://example.com/notify", "url: {fromEnv: NOTIFY_URL}", 1),
			":29: error: fromEnv is only for secrets (settings.notify.targets[].secret, settings.webhook.secrets)"},
		{"not a variable name", strings.Replace(notifySettings, "NOTIFY_TEST_SECRET", "NOT-A-NAME", 1),
			`:31: error: fromEnv "NOT-A-NAME" is not an environment variable name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := parseHookFile(writeHookFile(t, t.TempDir(), "g/h.yaml", good+tt.settings), "g", "h")
			if len(probs) != 1 || !strings.HasSuffix(probs[0].String(), tt.want) {
				t.Errorf("problems %v, want one ending %q", probs, tt.want)
			}
			if strings.Contains(probs[0].String(), "the-secret-value") {
				t.Errorf("the problem shows the secret: %s", probs[0])
			}
		})
	}
}

// hooks apply, diff and export carry a notify webhook target's secret as
// they carry the webhook's: through its variable, compared by fingerprint,
// never written or shown.
func TestHooks_NotifySecrets(t *testing.T) {
	base := startHooksServer(t)
	client := testClient(t, base)
	ctx := context.Background()
	dir := t.TempDir()
	_, _, good := hookYAML(1)
	path := writeHookFile(t, dir, "hooks/n.yaml", good+notifySettings)
	first := map[string]string{"NOTIFY_TEST_SECRET": "first-secret-value-0123456789"}
	code, out, errOut := hooksCLI(t, base, first, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	raw, err := client.Settings(ctx, "hooks", "n")
	if err != nil || strings.Contains(string(raw), "secret-value") || !strings.Contains(string(raw), `"secretFingerprint":"`+hooks.SecretFingerprint("first-secret-value-0123456789")+`"`) {
		t.Fatalf("settings %s %v", raw, err)
	}
	code, out, errOut = hooksCLI(t, base, first, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)

	second := map[string]string{"NOTIFY_TEST_SECRET": "second-secret-value-0123456789"}
	code, out, errOut = hooksCLI(t, base, second, "diff", dir)
	mustCode(t, hooksChanges, code, out, errOut)
	if !strings.Contains(out, "update hooks/n (settings)") || !strings.Contains(out, "-        secretFingerprint: "+hooks.SecretFingerprint("first-secret-value-0123456789")) ||
		!strings.Contains(out, "+        secretFingerprint: "+hooks.SecretFingerprint("second-secret-value-0123456789")) || strings.Contains(out, "secret-value") {
		t.Errorf("diff of a rotated secret:\n%s", out)
	}
	code, out, errOut = hooksCLI(t, base, nil, "diff", "--no-secrets", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
	if !strings.Contains(out, path+":31: warning: notify.targets[1].secret is not compared: the environment variable NOTIFY_TEST_SECRET is not set") {
		t.Errorf("no note of the secret left out:\n%s", out)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, hooksError, code, out, errOut)
	if !strings.Contains(out+errOut, "notify.targets[1].secret: the environment variable NOTIFY_TEST_SECRET, which holds this secret, is not set") {
		t.Errorf("apply without the variable:\n%s\n%s", out, errOut)
	}
	code, out, errOut = hooksCLI(t, base, second, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	if raw, _ := client.Settings(ctx, "hooks", "n"); !strings.Contains(string(raw), hooks.SecretFingerprint("second-secret-value-0123456789")) {
		t.Errorf("the rotated secret was not applied: %s", raw)
	}

	// Export keeps the variable of the file it replaces, and writes no
	// fingerprint.
	code, out, errOut = hooksCLI(t, base, nil, "export", dir)
	mustCode(t, 0, code, out, errOut)
	f := mustFiles(t, dir)[0]
	if got := mustRead(t, path); len(f.secrets) != 1 || f.secrets[0].name() != "notify.targets[1].secret" || f.secrets[0].env != "NOTIFY_TEST_SECRET" || strings.Contains(got, "Fingerprint") {
		t.Errorf("export dropped the secret's variable: %+v\n%s", f.secrets, got)
	}
	code, out, errOut = hooksCLI(t, base, second, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)

	// Exported afresh, the file leaves the secret out, which keeps it.
	fresh := t.TempDir()
	code, out, errOut = hooksCLI(t, base, nil, "export", fresh)
	mustCode(t, 0, code, out, errOut)
	if got := mustRead(t, filepath.Join(fresh, "hooks/n.yaml")); strings.Contains(got, "secret") || !strings.Contains(got, "url: https://example.com/notify") {
		t.Errorf("fresh export:\n%s", got)
	}
	code, out, errOut = hooksCLI(t, base, nil, "diff", fresh)
	mustCode(t, hooksNoChange, code, out, errOut)

	// The targets reordered by hand: the variable is not given to the
	// target that now stands where the webhook target stood.
	swapped := `{"notify":{"targets":[{"type":"webhook","url":"https://example.com/notify","events":["task-failed"]},{"type":"email","address":"team@example.com","events":["fire-error"]}]}}`
	if _, err := client.PutSettings(ctx, "hooks", "n", json.RawMessage(swapped)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = hooksCLI(t, base, nil, "export", dir)
	mustCode(t, 0, code, out, errOut)
	if f := mustFiles(t, dir)[0]; len(f.secrets) != 0 {
		t.Errorf("after the reorder, export named %+v", f.secrets)
	}
}
