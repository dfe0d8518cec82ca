package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunRender(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tmpl := write("template.json", `{"msg": "hello ${who}", "at": {"$fromNow": "1 day"}, "html": "<b>&</b>"}`)
	tmplNow := write("template-now.json", `{"$eval": "now"}`)
	bad := write("bad-template.json", `{"$eval": "who +"}`)
	ctx := write("context.json", `{"who": "world"}`)
	ctxNow := write("context-now.json", `{"now": "2030-01-01T00:00:00.000Z"}`)
	notJSON := write("not.json", `{"who": `)
	notObject := write("array.json", `[1, 2]`)
	missing := filepath.Join(dir, "missing.json")
	clock := func() time.Time { return time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC) }

	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // exact stdout
		wantErrSub string // substring of stderr
	}{
		{
			name:     "renders indented json",
			args:     []string{"--template", tmpl, "--context", ctx},
			wantCode: 0,
			wantOut:  "{\n  \"at\": \"2024-05-15T09:30:00.000Z\",\n  \"html\": \"<b>&</b>\",\n  \"msg\": \"hello world\"\n}\n",
		},
		{name: "context optional", args: []string{"--template", tmplNow}, wantCode: 0, wantOut: "\"2024-05-14T09:30:00.000Z\"\n"},
		{name: "context now wins", args: []string{"--template", tmplNow, "--context", ctxNow}, wantCode: 0, wantOut: "\"2030-01-01T00:00:00.000Z\"\n"},
		{name: "render error", args: []string{"--template", tmpl}, wantCode: 1, wantErrSub: "InterpreterError at template.msg: unknown context value who"},
		{name: "syntax error", args: []string{"--template", bad, "--context", ctx}, wantCode: 1, wantErrSub: "SyntaxError: Unexpected end of input"},
		{name: "no flags", args: nil, wantCode: 2, wantErrSub: "usage: hookline render"},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: 2, wantErrSub: "flag provided but not defined"},
		{name: "extra argument", args: []string{"--template", tmpl, "extra"}, wantCode: 2, wantErrSub: "usage: hookline render"},
		{name: "missing template file", args: []string{"--template", missing}, wantCode: 2, wantErrSub: "missing.json"},
		{name: "template not json", args: []string{"--template", notJSON}, wantCode: 2, wantErrSub: "not.json"},
		{name: "context not object", args: []string{"--template", tmpl, "--context", notObject}, wantCode: 2, wantErrSub: "must hold a JSON object"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErrSub: "usage: hookline render"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runRender(tt.args, &stdout, &stderr, clock)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if tt.wantOut != "" && stdout.String() != tt.wantOut {
				t.Fatalf("stdout\n%s\nwant\n%s", stdout.String(), tt.wantOut)
			}
			if tt.wantCode != 0 && stdout.Len() != 0 {
				t.Fatalf("unexpected stdout on failure: %q", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErrSub) {
				t.Fatalf("stderr %q does not contain %q", stderr.String(), tt.wantErrSub)
			}
		})
	}
}
