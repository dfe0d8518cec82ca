package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hookline/hookline/shared/jsone"
)

// runRender implements "hookline render --template FILE [--context FILE]":
// it renders a JSON-e template with a context (an empty one when --context
// is absent) and prints the result as indented JSON. now is the clock for
// $fromNow and fromNow() when the context has no "now" key. It returns 0 on
// success, 1 when rendering fails and 2 for usage errors, including files
// that cannot be read or are not JSON.
func runRender(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	templatePath := fs.String("template", "", "JSON-e template `file` (JSON)")
	contextPath := fs.String("context", "", "context `file` (a JSON object; optional)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hookline render --template FILE [--context FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *templatePath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}

	var tmpl any
	if err := readJSONFile(*templatePath, &tmpl); err != nil {
		fmt.Fprintln(stderr, "hookline render: template:", err)
		return 2
	}
	context := map[string]any{}
	if *contextPath != "" {
		var c any
		if err := readJSONFile(*contextPath, &c); err != nil {
			fmt.Fprintln(stderr, "hookline render: context:", err)
			return 2
		}
		m, ok := c.(map[string]any)
		if !ok {
			fmt.Fprintf(stderr, "hookline render: context: %s must hold a JSON object\n", *contextPath)
			return 2
		}
		context = m
	}

	result, err := jsone.Render(tmpl, context, jsone.Options{Now: now})
	if err != nil {
		fmt.Fprintln(stderr, "hookline render:", err)
		return 1
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(result); err != nil {
		fmt.Fprintln(stderr, "hookline render: encode result:", err)
		return 1
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintln(stderr, "hookline render: write result:", err)
		return 1
	}
	return 0
}

// readJSONFile decodes the single JSON value held in the file at path.
func readJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
