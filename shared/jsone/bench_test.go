package jsone

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// loadBench reads the benchmark template, context and expected output.
func loadBench(tb testing.TB) (tmpl any, context map[string]any, want any) {
	tb.Helper()
	read := func(name string, v any) {
		tb.Helper()
		path := filepath.Join("testdata", name)
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			tb.Fatalf("parse %s: %v", path, err)
		}
	}
	read("bench-template.json", &tmpl)
	read("bench-context.json", &context)
	read("bench-expected.json", &want)
	return tmpl, context, want
}

// benchOptions uses a clock that must not matter: the bench context sets now.
var benchOptions = Options{Now: func() time.Time { return time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) }}

func TestBenchTemplate(t *testing.T) {
	tmpl, context, want := loadBench(t)
	tp, err := Compile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for i := range 3 { // a compiled template renders the same every time
		got, err := tp.Render(context, benchOptions)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := canonicalJSON(t, got), canonicalJSON(t, want); !bytes.Equal(g, w) {
			t.Fatalf("render %d:\ngot  %s\nwant %s", i, g, w)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, context, want := loadBench(b)
	tp, err := Compile(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	got, err := tp.Render(context, benchOptions)
	if err != nil {
		b.Fatal(err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		b.Fatalf("first render differs from bench-expected.json:\ngot  %s\nwant %s", g, w)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Render(context, benchOptions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileAndRender is the one-shot Render: compile and render the
// bench pair, as a caller without a template cache would.
func BenchmarkCompileAndRender(b *testing.B) {
	tmpl, context, _ := loadBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(tmpl, context, benchOptions); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	tmpl, _, _ := loadBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(tmpl); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	_, context, _ := loadBench(b)
	b.ReportAllocs()
	for b.Loop() {
		v, err := Evaluate(`firedBy == "triggerHook" && payload.project in ["mozilla-central", "mozilla-beta"]`, context, benchOptions)
		if err != nil || v != true {
			b.Fatal(v, err)
		}
	}
}

// TestBoxedValuesSurviveGC renders the bench pair, lets the garbage
// collector run while other renders churn memory, and checks the first
// result is intact: results point into the renderer's slabs (box.go).
func TestBoxedValuesSurviveGC(t *testing.T) {
	tmpl, context, want := loadBench(t)
	tp, err := Compile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.Render(context, benchOptions)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		for range 50 {
			if _, err := tp.Render(context, benchOptions); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
	}
	if g, w := canonicalJSON(t, got), canonicalJSON(t, want); !bytes.Equal(g, w) {
		t.Fatalf("result changed after GC:\ngot  %s\nwant %s", g, w)
	}
}
