package auth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// referenceDir holds the Taskcluster test vectors and scope cases, copied
// unchanged from the reference set (testdata/README.md says where each
// came from).
const referenceDir = "testdata"

// loadReference decodes a reference JSON file of testdata/.
func loadReference(t testing.TB, name string, v any) {
	t.Helper()
	path := filepath.Join(referenceDir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read reference data: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
}

// vectors mirrors vectors.json.
type vectors struct {
	Meta struct {
		NowMs    int64 `json:"nowMs"`
		Fixtures struct {
			Clients map[string]struct {
				AccessToken      string    `json:"accessToken"`
				UnexpandedScopes []string  `json:"unexpandedScopes"`
				ExpandedScopes   []string  `json:"expandedScopes"`
				Expires          time.Time `json:"expires"`
				Disabled         bool      `json:"disabled"`
			} `json:"clients"`
			Roles              []Role   `json:"roles"`
			AnonymousExpansion []string `json:"anonymousExpansion"`
		} `json:"fixtures"`
	} `json:"meta"`
	HawkHeader             []signedCase `json:"hawkHeader"`
	TempCredentialRequests []signedCase `json:"tempCredentialRequests"`
	HawkUpstream           []struct {
		Name  string `json:"name"`
		Input struct {
			URL         string   `json:"url"`
			Method      string   `json:"method"`
			Credentials vecCreds `json:"credentials"`
			Timestamp   int64    `json:"timestamp"`
			Nonce       string   `json:"nonce"`
			Ext         *string  `json:"ext"`
			Payload     *string  `json:"payload"`
			ContentType *string  `json:"contentType"`
			TTLSec      int64    `json:"ttlSec"`
			NowMs       int64    `json:"nowMs"`
		} `json:"input"`
		NormalizedString string `json:"normalizedString"`
		PayloadHash      string `json:"payloadHash"`
		Authorization    string `json:"authorization"`
		Bewit            string `json:"bewit"`
	} `json:"hawkUpstream"`
	PayloadHash []struct {
		Payload     string `json:"payload"`
		ContentType string `json:"contentType"`
		Hash        string `json:"hash"`
	} `json:"payloadHash"`
	TemporaryCredentials []struct {
		Name   string `json:"name"`
		Issuer struct {
			ClientID    string `json:"clientId"`
			AccessToken string `json:"accessToken"`
		} `json:"issuer"`
		Options struct {
			ClientID *string  `json:"clientId"`
			Start    int64    `json:"start"`
			Expiry   int64    `json:"expiry"`
			Scopes   []string `json:"scopes"`
		} `json:"options"`
		SeedParts []string `json:"seedParts"`
		Result    struct {
			ClientID    string `json:"clientId"`
			AccessToken string `json:"accessToken"`
			Certificate string `json:"certificate"`
		} `json:"result"`
		StringToSignServer        string `json:"stringToSign_server"`
		SignatureOverServerString string `json:"signatureOverServerString"`
		ServerAcceptsSignature    bool   `json:"serverAcceptsSignature"`
	} `json:"temporaryCredentials"`
	Bewit []struct {
		Name  string `json:"name"`
		Input struct {
			URL         string   `json:"url"`
			Credentials vecCreds `json:"credentials"`
			TTLSec      int64    `json:"ttlSec"`
			NowMs       int64    `json:"nowMs"`
			Ext         *string  `json:"ext"`
		} `json:"input"`
		Derived struct {
			NormalizedString string `json:"normalizedString"`
			Mac              string `json:"mac"`
			ResourceSigned   string `json:"resourceSigned"`
			Host             string `json:"host"`
			Port             string `json:"port"`
			Exp              int64  `json:"exp"`
		} `json:"derived"`
		Bewit     string     `json:"bewit"`
		SignedURL string     `json:"signedUrl"`
		Server    serverPair `json:"server"`
	} `json:"bewit"`
	BewitFromClient []struct {
		Name              string        `json:"name"`
		ClientCredentials clientOptions `json:"clientCredentials"`
		SignedURL         string        `json:"signedUrl"`
		Server            serverPair    `json:"server"`
	} `json:"bewitFromClient"`
	CapturedClientRequests []struct {
		Name          string `json:"name"`
		ClientOptions struct {
			Credentials      clientOptions `json:"credentials"`
			AuthorizedScopes []string      `json:"authorizedScopes"`
		} `json:"clientOptions"`
		RootURL string `json:"rootUrl"`
		Request struct {
			Method              string            `json:"method"`
			RequestTarget       string            `json:"requestTarget"`
			Host                string            `json:"host"`
			Authorization       *string           `json:"authorization"`
			ContentType         *string           `json:"contentType"`
			Body                string            `json:"body"`
			AuthorizationParsed map[string]string `json:"authorizationParsed"`
		} `json:"request"`
		Server serverPair `json:"server"`
	} `json:"capturedClientRequests"`
	ServerCases []struct {
		Name    string      `json:"name"`
		Request HawkRequest `json:"request"`
		Result  HawkResult  `json:"result"`
	} `json:"serverCases"`
	HTTPResponses []struct {
		Name    string `json:"name"`
		Request struct {
			Method  string            `json:"method"`
			Target  string            `json:"target"`
			Headers map[string]string `json:"headers"`
			Body    *string           `json:"body"`
		} `json:"request"`
		Response struct {
			Status          int     `json:"status"`
			WWWAuthenticate *string `json:"wwwAuthenticate"`
			Body            struct {
				Code             string   `json:"code"`
				Message          string   `json:"message"`
				ClientID         string   `json:"clientId"`
				SatisfyingScopes []string `json:"satisfyingScopes"`
			} `json:"body"`
		} `json:"response"`
	} `json:"httpResponses"`
}

type vecCreds struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

type clientOptions struct {
	ClientID    string `json:"clientId"`
	AccessToken string `json:"accessToken"`
	Certificate string `json:"certificate"`
}

type serverPair struct {
	Request HawkRequest `json:"request"`
	Result  HawkResult  `json:"result"`
}

// signedCase is a request signed by the real Hawk/Taskcluster client code.
type signedCase struct {
	Name  string `json:"name"`
	Input struct {
		Method      string   `json:"method"`
		URL         string   `json:"url"`
		Credentials vecCreds `json:"credentials"`
		TS          int64    `json:"ts"`
		Nonce       string   `json:"nonce"`
		Ext         *string  `json:"ext"`
		Payload     *string  `json:"payload"`
		ContentType *string  `json:"contentType"`
	} `json:"input"`
	Derived struct {
		Resource         string  `json:"resource"`
		Host             string  `json:"host"`
		Port             string  `json:"port"`
		PayloadHash      *string `json:"payloadHash"`
		NormalizedString string  `json:"normalizedString"`
		Mac              string  `json:"mac"`
	} `json:"derived"`
	Authorization string     `json:"authorization"`
	Server        serverPair `json:"server"`
	ClientOptions *struct {
		Credentials      clientOptions `json:"credentials"`
		AuthorizedScopes []string      `json:"authorizedScopes"`
	} `json:"clientOptions"`
}

// loadVectors reads vectors.json once per test.
func loadVectors(t testing.TB) *vectors {
	t.Helper()
	var v vectors
	loadReference(t, "vectors.json", &v)
	if v.Meta.NowMs == 0 || len(v.ServerCases) == 0 {
		t.Fatal("vectors.json decoded to nothing: has its layout changed?")
	}
	return &v
}

// fixtureStatic builds a Static with the vectors' clients and roles and its
// clock frozen at the vectors' time.
func fixtureStatic(t testing.TB, v *vectors, opts *Options) *Static {
	t.Helper()
	var cfg Config
	for id, c := range v.Meta.Fixtures.Clients {
		cfg.Clients = append(cfg.Clients, Client{
			ClientID: id, AccessToken: c.AccessToken, Scopes: c.UnexpandedScopes,
			Expires: c.Expires, Disabled: c.Disabled,
		})
	}
	cfg.Roles = v.Meta.Fixtures.Roles
	o := Options{}
	if opts != nil {
		o = *opts
	}
	now := time.UnixMilli(v.Meta.NowMs)
	o.Now = func() time.Time { return now }
	x, err := NewStatic(cfg, &o)
	if err != nil {
		t.Fatalf("NewStatic(fixtures): %v", err)
	}
	return x
}

// deviations are the vectors where Hookline deliberately answers
// differently from Taskcluster, with the answer it gives instead.
var deviations = map[string]HawkResult{
	// Taskcluster accepts any ts because JavaScript's NaN never compares as
	// stale; such a signature would never expire. We want decimal digits.
	"ts-non-numeric-accepted": {Status: StatusFailed, Message: "Unauthorized: Invalid timestamp"},
	"ts-hex-accepted":         {Status: StatusFailed, Message: "Unauthorized: Invalid timestamp"},
	"ts-float-accepted":       {Status: StatusFailed, Message: "Unauthorized: Invalid timestamp"},
}

// checkResult compares an authenticateHawk answer with the expected one.
func checkResult(t *testing.T, name string, got, want HawkResult) {
	t.Helper()
	if d, ok := deviations[name]; ok {
		want = d
	}
	if got.Status != want.Status || got.Message != want.Message || got.ClientID != want.ClientID ||
		got.Scheme != want.Scheme || got.Hash != want.Hash || !got.Expires.Equal(want.Expires) ||
		strings.Join(got.Scopes, "\n") != strings.Join(want.Scopes, "\n") {
		t.Errorf("result mismatch\n got: %+v\nwant: %+v", got, want)
	}
}
