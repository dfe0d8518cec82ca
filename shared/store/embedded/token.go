package embedded

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/hookline/hookline/shared/store"
)

// A continuation token is the last key returned, tagged with the listing it
// belongs to so that a token from one listing cannot steer another.
func encodeToken(scope, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00\x00" + last))
}

func decodeToken(token, scope string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("embedded: %w", store.ErrBadToken)
	}
	prefix := []byte(scope + "\x00\x00")
	if !bytes.HasPrefix(raw, prefix) || len(raw) == len(prefix) {
		return "", fmt.Errorf("embedded: %w", store.ErrBadToken)
	}
	return string(raw[len(prefix):]), nil
}
