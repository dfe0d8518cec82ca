package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/testutil"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"-function", "ApiFunction", "-bootstrap", "b", "-set", "A=1", "-set", "B=x=y", "e1.json", "e2.json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.set["A"] != "1" || o.set["B"] != "x=y" || len(o.events) != 2 || o.envFile != "infra/events/env.json" {
		t.Errorf("parsed %+v", o)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-bootstrap", "b", "e.json"}, "-function"},
		{[]string{"-function", "ApiFunction", "e.json"}, "-bootstrap"},
		{[]string{"-function", "ApiFunction", "-bootstrap", "b"}, "event file"},
		{[]string{"-function", "ApiFunction", "-bootstrap", "b", "-set", "novalue", "e.json"}, "NAME=VALUE"},
		{[]string{"-function", "TriggerFunction", "-bootstrap", "b", "-seed", "s.json", "e.json"}, "-seed-bootstrap"},
	} {
		if _, err := parseArgs(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q): %v, want an error naming %s", tt.args, err, tt.want)
		}
	}
}

func TestFunctionTimeout(t *testing.T) {
	tpl := filepath.Join(testutil.RepoRoot(t), "template.yaml")
	for id, want := range map[string]int{"ApiFunction": 29, "SchedulerFunction": 60, "TriggerFunction": 30} {
		if got, err := functionTimeout(tpl, id); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d (template.yaml)", id, got, err, want)
		}
	}
	if _, err := functionTimeout(tpl, "HooksTable"); err == nil {
		t.Error("a table was taken for a function")
	}
}

func TestFunctionEnv(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(t), "infra", "events", "env.json")
	env, err := functionEnv(path, "SchedulerFunction")
	if err != nil || env["HOOKLINE_STORE"] == "" {
		t.Errorf("SchedulerFunction: %v %v", env, err)
	}
	if _, err := functionEnv(path, "NoSuchFunction"); err == nil || !strings.Contains(err.Error(), "ApiFunction") {
		t.Errorf("an unknown function: %v, want an error listing the known ones", err)
	}
}
