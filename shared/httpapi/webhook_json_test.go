package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is what decodeJSON must match: json.Valid for the whole
// document (one value, whitespace around it), then json.Decoder with
// UseNumber for the value.
func stdDecode(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkSameAsStd fails when decodeJSON and encoding/json disagree on
// whether data is valid, or on its value.
func checkSameAsStd(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdDecode(data)
	got, gotErr := decodeJSON(data)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: encoding/json error %v, decodeJSON error %v", data, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q:\nencoding/json %#v\n   decodeJSON %#v", data, want, got)
	}
}

var jsonCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.25E+10`, `1E5`, `true`, `false`, `null`,
	` {"a" : [1, 2.0, -3e2, "x", true, false, null, {}, []] } `,
	`{"a":1,"a":2}`, `{"":""}`, `{"nested":{"deep":{"deeper":[[[]]]}}}`,
	`"caf\u00e9 \ud83d\ude00 \" \\ \/ \b \f \n \r \t"`, `"\ud800"`, `"\udc00\ud800x"`, `"\u0000"`,
	"\"caf\xc3\xa9\"", "\"bad \xff byte\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"\xe2\x80\xa8\"",
	"\n\t\r {\"a\":1}\n",
	// Invalid documents.
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{'a':1}`, `[1 2]`, `01`, `-`, `1.`, `.5`,
	`1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`, `tru`, `truex`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`,
	"\"a\x01b\"", "\"tab\there\"", `{} {}`, `[] x`, `{"a":1}}`, "\xef\xbb\xbf{}", `[1,,2]`, `{"a" 1}`, `{"a":1 "b":2}`,
	`"\`, `[`, `["a"`, `{"a":[1,2}`, `{"a":{"b":1]}`,
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkSameAsStd(t, []byte(c))
	}
	checkSameAsStd(t, githubPushPayload(25<<10))
	// encoding/json's nesting limit, on both sides of it.
	for _, depth := range []int{9999, 10000, 10001} {
		checkSameAsStd(t, []byte(strings.Repeat("[", depth)+strings.Repeat("]", depth)))
		checkSameAsStd(t, []byte(strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth)))
	}
}

func TestDecodeJSONObject(t *testing.T) {
	if _, err := decodeJSONObject([]byte(`[1]`)); err == nil || !strings.Contains(err.Error(), "JSON object") {
		t.Fatalf("array accepted as an object: %v", err)
	}
	obj, err := decodeJSONObject([]byte(`{"n":12345678901234567890,"s":"x"}`))
	if err != nil || obj["n"] != json.Number("12345678901234567890") || obj["s"] != "x" {
		t.Fatalf("got %#v %v", obj, err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Add(githubPushPayload(4 << 10))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameAsStd(t, data)
	})
}
