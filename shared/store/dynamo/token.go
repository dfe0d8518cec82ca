package dynamo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// pageKey is the JSON form of a table key inside a continuation token.
type pageKey struct {
	PK *string `json:"pk"`
	SK *string `json:"sk"`
}

// encodeToken returns the opaque continuation token for the key (pk, sk).
func encodeToken(pk, sk string) (string, error) {
	data, err := json.Marshal(pageKey{PK: &pk, SK: &sk})
	if err != nil {
		return "", fmt.Errorf("dynamo: encode token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// decodeToken returns the exclusive start key a token stands for, or nil
// for the empty token. Anything but a key of partition pk, encoded by
// encodeToken, is store.ErrBadToken.
func decodeToken(token, pk string) (map[string]types.AttributeValue, error) {
	if token == "" {
		return nil, nil
	}
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("dynamo: %w: %w", store.ErrBadToken, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var k pageKey
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("dynamo: %w: %w", store.ErrBadToken, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("dynamo: %w: trailing data", store.ErrBadToken)
	}
	switch {
	case k.PK == nil || k.SK == nil || *k.SK == "":
		return nil, fmt.Errorf("dynamo: %w: incomplete key", store.ErrBadToken)
	case *k.PK != pk:
		return nil, fmt.Errorf("dynamo: %w: token belongs to another listing", store.ErrBadToken)
	}
	return key(*k.PK, *k.SK), nil
}
