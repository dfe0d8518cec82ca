package auth

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestJSNumberString(t *testing.T) {
	// Expected values are what JavaScript's String(n) prints.
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1700000000000, "1700000000000"},
		{1700000000000.5, "1700000000000.5"},
		{-5, "-5"},
		{1.5, "1.5"},
		{0.000001, "0.000001"},
		{1e-7, "1e-7"},
		{1.5e-10, "1.5e-10"},
		{123456789012345680000, "123456789012345680000"},
		{1e21, "1e+21"},
		{-2.5e22, "-2.5e+22"},
	} {
		if got := jsNumberString(tt.in); got != tt.want {
			t.Errorf("jsNumberString(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTruthy(t *testing.T) {
	for _, tt := range []struct {
		json string
		want bool
	}{
		{`null`, false}, {`false`, false}, {`0`, false}, {`-0`, false}, {`""`, false},
		{`true`, true}, {`1`, true}, {`"x"`, true}, {`[]`, true}, {`{}`, true},
	} {
		var v any
		if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
			t.Fatal(err)
		}
		if got := truthy(v); got != tt.want {
			t.Errorf("truthy(%s) = %v, want %v", tt.json, got, tt.want)
		}
	}
}

func TestDecodeBase64Lenient(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"e30=", "{}"},
		{"e30", "{}"},
		{"PD8-Pz8_", "<?>???"},
		{"PD8+Pz8/", "<?>???"},
		{"e3\n0=", "{}"},
		{"e30=e30=", "{}"},
		{"", ""},
	} {
		if got := string(decodeBase64Lenient(tt.in)); got != tt.want {
			t.Errorf("decodeBase64Lenient(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Not JSON; JSON but not an object (Taskcluster ignores "123" and fails on
	// "null"; we refuse both); nothing at all.
	for _, bad := range []string{"bm90IGpzb24=", "MTIz", "bnVsbA==", "!!!"} {
		if _, ok := parseExt(bad); ok {
			t.Errorf("parseExt(%q) accepted", bad)
		}
	}
}

func TestError(t *testing.T) {
	err := error(&Error{Code: CodeInsufficientScopes, Message: "msg"})
	if err.Error() != "msg" || !errors.Is(err, ErrInsufficientScopes) || errors.Is(err, ErrAuthenticationFailed) {
		t.Errorf("Error %v: Is/Error misbehave", err)
	}
	if s := (&Error{Code: "Other"}).StatusCode(); s != 500 {
		t.Errorf("unknown code status = %d", s)
	}
	if ErrAuthenticationFailed.StatusCode() != 401 || ErrInsufficientScopes.StatusCode() != 403 {
		t.Error("sentinel status codes wrong")
	}
}
