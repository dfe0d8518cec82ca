package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config lists the clients and roles a Static authenticator knows. Its JSON
// form is described in the package documentation.
type Config struct {
	// Clients are the permanent credentials.
	Clients []Client `json:"clients"`
	// Roles are expanded through assume: scopes.
	Roles []Role `json:"roles,omitempty"`
	// AnonymousScopes is shorthand for the "anonymous" role: scopes every
	// request gets, with or without credentials.
	AnonymousScopes []string `json:"anonymousScopes,omitempty"`
}

// Client is a set of permanent credentials.
type Client struct {
	// ClientID is the Hawk id, e.g. "project/ci" (letters, digits and
	// !@/:.+|_- only, as in Taskcluster).
	ClientID string `json:"clientId"`
	// AccessToken is the Hawk key (at least 16 characters; see
	// GenerateAccessToken).
	AccessToken string `json:"accessToken"`
	// Scopes the client holds before role expansion.
	Scopes []string `json:"scopes"`
	// Expires, when set, is when the client stops working.
	Expires time.Time `json:"expires,omitzero"`
	// Disabled clients are refused.
	Disabled bool `json:"disabled,omitempty"`
	// Description is free text for humans.
	Description string `json:"description,omitempty"`
}

const minAccessTokenLength = 16

// ParseConfig decodes and validates a JSON configuration document. Unknown
// fields are errors, and every problem found is reported, each naming the
// entry to fix.
func ParseConfig(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("auth: config: %w", describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("auth: config: unexpected data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// describeJSONError adds the line and column to syntax and type errors.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tpe *time.ParseError
	var off int64
	switch {
	case errors.As(err, &tpe):
		return fmt.Errorf("expires must be an RFC 3339 time such as \"2030-01-01T00:00:00Z\": %w", err)
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return err
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// validClientID matches Taskcluster's clientId pattern ^[A-Za-z0-9!@/:.+|_-]+$.
func validClientID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isWordChar(c) && strings.IndexByte("!@/:.+|-", c) < 0 {
			return false
		}
	}
	return true
}

// Validate checks the configuration and reports every problem found.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("auth: config: "+format, args...))
	}
	checkScopes := func(where string, scopes []string) {
		for j, s := range scopes {
			switch {
			case !ValidScope(s):
				add("%s.scopes[%d]: %q is not a valid scope: use printable ASCII only", where, j, s)
			case strings.HasSuffix(s, "**"):
				add("%s.scopes[%d]: %q ends in \"**\": end it with a single \"*\"", where, j, s)
			}
		}
	}
	seen := make(map[string]int, len(c.Clients))
	for i, cl := range c.Clients {
		where := fmt.Sprintf("clients[%d]", i)
		switch {
		case cl.ClientID == "":
			add("%s.clientId is missing", where)
		case !validClientID(cl.ClientID):
			add("%s.clientId %q may only contain letters, digits and !@/:.+|_-", where, cl.ClientID)
		default:
			if j, dup := seen[cl.ClientID]; dup {
				add("%s.clientId %q repeats clients[%d]: client ids must be unique", where, cl.ClientID, j)
			}
			seen[cl.ClientID] = i
			where = fmt.Sprintf("clients[%d] (%s)", i, cl.ClientID)
		}
		if len(cl.AccessToken) < minAccessTokenLength {
			add("%s.accessToken must be at least %d characters (generate one with GenerateAccessToken)", where, minAccessTokenLength)
		}
		checkScopes(where, cl.Scopes)
	}
	for i, r := range c.Roles {
		where := fmt.Sprintf("roles[%d]", i)
		if r.RoleID != "" {
			where = fmt.Sprintf("roles[%d] (%s)", i, r.RoleID)
		}
		checkScopes(where, r.Scopes)
		if r.RoleID == "anonymous" && c.AnonymousScopes != nil {
			add("%s: both the \"anonymous\" role and anonymousScopes are set: keep one", where)
		}
	}
	checkScopes("anonymousScopes", c.AnonymousScopes)
	if len(errs) == 0 {
		if _, err := CompileRoles(c.allRoles()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// allRoles returns the roles with anonymousScopes as the "anonymous" role.
func (c Config) allRoles() []Role {
	if c.AnonymousScopes == nil {
		return c.Roles
	}
	roles := make([]Role, 0, len(c.Roles)+1)
	roles = append(roles, c.Roles...)
	return append(roles, Role{RoleID: "anonymous", Scopes: c.AnonymousScopes})
}
