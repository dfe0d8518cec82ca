package httpapi

import "testing"

func TestNormalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Console.Example":     "https://console.example",
		"https://console.example:443": "https://console.example",
		"http://127.0.0.1:80":         "http://127.0.0.1",
		"http://127.0.0.1:8080/":      "http://127.0.0.1:8080",
		"http://[::1]:80":             "http://[::1]",
		"null":                        "",
		"ftp://example.com":           "",
		"https://example.com/path":    "",
		"https://user@example.com":    "",
	} {
		got, ok := normalOrigin(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalOrigin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestGrantsWrites(t *testing.T) {
	for _, tt := range []struct {
		name   string
		scopes []string
		want   bool
	}{
		{"README's trial", []string{"hooks:*", "assume:hook-id:*", "queue:*", "hookline:*"}, true},
		{"nothing", nil, false},
		{"reads", []string{"hooks:get:*", "hooks:list-hooks:*", "hooks:status:*", "hooks:list-last-fires:*"}, false},
		{"trigger tokens are secrets", []string{"hooks:get-trigger-token:g/*"}, true},
		{"trigger one group", []string{"hooks:trigger-hook:g/*"}, true},
		{"modify without the role", []string{"hooks:modify-hook:*"}, true}, // removeHook takes modify-hook alone
		{"the role alone", []string{"assume:hook-id:*"}, false},
		{"pause", []string{"hookline:pause:g/h"}, true},
	} {
		if got := GrantsWrites(tt.scopes); got != tt.want {
			t.Errorf("%s: GrantsWrites(%q) = %v, want %v", tt.name, tt.scopes, got, tt.want)
		}
	}
}
