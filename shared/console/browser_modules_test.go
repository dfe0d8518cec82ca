//go:build integration

package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// moduleChecks runs in the console page against the console's own modules
// (imported by their hashed URLs, as the page imports them): the JSON
// positions, the diff, scope matching, the error parsing and the form
// generated from a schema with nested objects, arrays, enums and a part
// only JSON can express.
const moduleChecks = `(async () => {
  const mod = async (name) => import([...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href)
    .find((u) => new RegExp("/js/" + name + "\\.[0-9a-f]{12}\\.js$").test(u)));
  const json = await mod("json"), diff = await mod("diff"), scopes = await mod("scopes"),
    form = await mod("schemaform"), api = await mod("api"), settings = await mod("settings"), dom = await mod("dom");
  const fails = [];
  const eq = (what, got, want) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) fails.push(what + ": got " + JSON.stringify(got) + ", want " + JSON.stringify(want));
  };

  // JSON errors say where; locations find properties.
  eq("valid", json.parse('{"a": 1}').value, {a: 1});
  const bad = json.parse('{\n  "a": 1,\n  "b": 2,\n}');
  eq("trailing comma line", [bad.error.line, bad.error.col], [4, 1]);
  eq("trailing comma says so", bad.error.message.includes("comma"), true);
  eq("single quotes", json.parse("{'a': 1}").error.message.includes("double quotes"), true);
  eq("unterminated", json.parse('{"a": "x').error.line, 1);
  const text = '{\n  "metadata": {\n    "owner": "x"\n  },\n  "schedule": ["a", "b"]\n}';
  const locs = json.locations(text);
  eq("owner line", json.lineCol(text, locs.get("metadata.owner")).line, 3);
  eq("array item", json.lineCol(text, locs.get("schedule.1")).col, 21);
  eq("problems", json.schemaProblems("Schema validation error:\n * metadata.owner: Does not match format 'email'\n * body: Additional property colour is not allowed\n")
    .map((p) => p.path), ["metadata.owner", "colour"]);

  // The diff marks what changed.
  const d = diff.diffLines("a\nb\nc\nd", "a\nB\nc\nd\ne");
  eq("diff", d.map((o) => o.op + o.line), [" a", "-b", "+B", " c", " d", "+e"]);

  // Scopes as Taskcluster matches them.
  eq("star", scopes.satisfies(["hooks:*"], "hooks:get:g:h"), true);
  eq("prefix is not star", scopes.satisfies(["hooks:get:g"], "hooks:get:g:h"), false);
  eq("allof", scopes.satisfies(["a", "b"], {AllOf: ["a", "b"]}), true);
  eq("anyof", scopes.satisfies(["b"], {AnyOf: ["a", "b"]}), true);
  eq("missing", scopes.missing(["a"], {AllOf: ["a", "b", {AnyOf: ["c", "d"]}]}), ["b", "c or d"]);

  // A 403's missing scopes, from a single scope or an expression.
  const e403 = (m) => new api.ApiError(403, "InsufficientScopes", m);
  eq("one scope", e403("Client ID x does not have sufficient scopes and is missing the following scopes:\n\n` + "```" + `\nhooks:get:g:h\n` + "```" + `\n\nThis request").missingScopes, ["hooks:get:g:h"]);
  eq("expression", e403("Client ID x does not have sufficient scopes and is missing the following scopes:\n\n` + "```" + `\n{\n  \"AllOf\": [\n    \"a\",\n    \"b\"\n  ]\n}\n` + "```" + `\n").missingScopes, ["a", "b"]);
  eq("anonymous", e403("This request requires Taskcluster credentials that satisfy the following scope expression:\n\n` + "```" + `\nhooks:list-hooks:\n` + "```" + `").missingScopes, ["hooks:list-hooks:"]);

  // A refused settings save names the fields to mark: every line of a
  // schema error, or the path an InputError starts with.
  const e400 = (code, m) => new api.ApiError(400, code, m + "\n\n---\n\n* method:     updateHookSettings");
  eq("schema problems", settings.problemsOf(e400("InputValidationError", "Schema validation error:\n * schedule.maxCatchUp: Must be less than or equal to 1000\n * notify.targets.1.events: Array must have at least 1 items\n"))
    .map((p) => p.path), ["schedule.maxCatchUp", "notify.targets.1.events"]);
  eq("input error path", settings.problemsOf(e400("InputError", "schedule.cron[0]: expected the standard 5 fields")), [{path: "schedule.cron.0", message: "schedule.cron[0]: expected the standard 5 fields", short: "expected the standard 5 fields"}]);
  eq("input error with a value", settings.problemsOf(e400("InputError", 'schedule.timeZone "X" is not an IANA time zone name'))[0].short, '"X" is not an IANA time zone name');
  eq("input error without a path", settings.problemsOf(e400("InputError", "42 is not a name")).map((p) => p.path), [""]);
  eq("not a field problem", settings.problemsOf(new api.ApiError(403, "InsufficientScopes", "no")), []);
  eq("span", [dom.span(0), dom.span(55), dom.span(400), dom.span(3725)], ["0 s", "55 s", "6 min 40 s", "1 h 2 min 5 s"]);

  // A form from a schema: nested object, array of objects, enum, number,
  // and a oneOf left to JSON.
  const schema = {type: "object", required: ["env", "targets"], properties: {
    env: {type: "string", enum: ["prod", "staging"]},
    retries: {type: "integer", minimum: 0, maximum: 3, default: 1},
    build: {type: "object", properties: {ref: {type: "string", pattern: "^refs/"}, clean: {type: "boolean"}}, required: ["ref"]},
    targets: {type: "array", minItems: 1, items: {type: "object", properties: {name: {type: "string"}}, required: ["name"]}},
    extra: {oneOf: [{type: "string"}, {type: "number"}]},
  }};
  const f = form.schemaForm(schema, () => {});
  document.body.append(f.element);
  eq("kinds", ["env", "retries", "build.ref", "build.clean", "extra"].map((n) => f.element.querySelector('[name="' + n + '"]')?.tagName),
    ["SELECT", "INPUT", "INPUT", "SELECT", "TEXTAREA"]);
  eq("default", f.value().retries, 1);
  eq("problems of an empty form", f.check().map((p) => p.path).sort(), ["build.ref", "targets"]);
  f.set({env: "staging", retries: 2, build: {ref: "main"}, targets: [{name: "a"}, {name: "b"}], extra: 5});
  eq("round trip", f.value(), {env: "staging", retries: 2, build: {ref: "main"}, targets: [{name: "a"}, {name: "b"}], extra: 5});
  eq("pattern", f.check().map((p) => p.message), ["build.ref must match ^refs/"]);
  eq("items shown", f.element.querySelectorAll(".schema-array > li").length, 2);
  f.element.querySelector('[name="extra"]').value = "{oops";
  eq("bad JSON part", f.check().some((p) => p.path === "extra" && p.message.includes("line 1")), true);
  eq("validate", form.validate({type: "integer", maximum: 3}, 4), [{path: "", message: "payload must be at most 3"}]);
  f.element.remove();
  return fails;
})()`

// TestBrowser_Modules unit-tests the console's modules in Chromium.
func TestBrowser_Modules(t *testing.T) {
	s := startServe(t, nil)
	b := newBrowser(t)
	b.do("open", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in")))
	var fails []string
	b.eval("module checks", moduleChecks, &fails)
	if len(fails) > 0 {
		t.Errorf("%d module checks failed:\n%s", len(fails), strings.Join(fails, "\n"))
	}
}
