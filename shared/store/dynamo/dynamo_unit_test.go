package dynamo

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/store"
)

func TestToken_RoundTrip(t *testing.T) {
	for _, tt := range []struct{ name, pk, sk string }{
		{name: "hook", pk: "HOOK#g", sk: "h/with/slash"},
		{name: "groups", pk: groupsPK, sk: "group"},
		{name: "unicode and quotes", pk: `HOOK#"ü"`, sk: "\"\\\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := encodeToken(tt.pk, tt.sk)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeToken(tok, tt.pk)
			if err != nil {
				t.Fatal(err)
			}
			pk, _ := getS(got, attrPK)
			sk, _ := getS(got, attrSK)
			if pk != tt.pk || sk != tt.sk || len(got) != 2 {
				t.Fatalf("decoded %q %q (%d attributes), want %q %q", pk, sk, len(got), tt.pk, tt.sk)
			}
		})
	}
}

func TestToken_Rejects(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	other, err := encodeToken("HOOK#other", "h")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, token string }{
		{name: "not base64", token: "garbage!!"},
		{name: "percent", token: "%%%"},
		{name: "padded base64", token: b64(`{"pk":"HOOK#g","sk":"h"}`) + "=="},
		{name: "not json", token: b64("hello")},
		{name: "unknown field", token: b64(`{"not":"this"}`)},
		{name: "extra field", token: b64(`{"pk":"HOOK#g","sk":"h","x":1}`)},
		{name: "trailing data", token: b64(`{"pk":"HOOK#g","sk":"h"}{}`)},
		{name: "missing sk", token: b64(`{"pk":"HOOK#g"}`)},
		{name: "empty sk", token: b64(`{"pk":"HOOK#g","sk":""}`)},
		{name: "missing pk", token: b64(`{"sk":"h"}`)},
		{name: "number sk", token: b64(`{"pk":"HOOK#g","sk":1}`)},
		{name: "null", token: b64(`null`)},
		{name: "other partition", token: other},
		{name: "prefix partition", token: b64(`{"pk":"HOOK#","sk":"h"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeToken(tt.token, "HOOK#g"); !errors.Is(err, store.ErrBadToken) {
				t.Fatalf("decodeToken(%q) = %v, want ErrBadToken", tt.token, err)
			}
		})
	}
}

func TestHookItem_RoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 89, time.FixedZone("x", 3600))
	for _, tt := range []struct {
		name    string
		hook    store.Hook
		wantDue bool
	}{
		{name: "scheduled", hook: store.Hook{HookGroupID: "g", HookID: "a/b", Definition: []byte(`{"x":1}`), TriggerToken: "tok", NextTaskID: "task", NextScheduledDate: at, Version: 7}, wantDue: true},
		{name: "unscheduled", hook: store.Hook{HookGroupID: "g", HookID: "h", Definition: []byte(`{}`), Version: 1}},
		{name: "empty fields", hook: store.Hook{HookGroupID: "", HookID: "h", Version: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			item := hookItem(tt.hook, chunkRef{})
			_, hasShard := item[attrDueShard]
			_, hasAt := item[attrDueAt]
			if hasShard != tt.wantDue || hasAt != tt.wantDue {
				t.Fatalf("due attributes present = %v/%v, want %v", hasShard, hasAt, tt.wantDue)
			}
			got, _, err := decodeHook(item)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.hook
			if !want.NextScheduledDate.IsZero() {
				want.NextScheduledDate = want.NextScheduledDate.UTC()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestDecodeHook_Corrupt(t *testing.T) {
	valid := func() map[string]types.AttributeValue {
		return hookItem(store.Hook{HookGroupID: "g", HookID: "h", Version: 1}, chunkRef{})
	}
	for _, tt := range []struct {
		name   string
		change func(map[string]types.AttributeValue)
	}{
		{name: "not a hook", change: func(m map[string]types.AttributeValue) { m[attrPK] = avS("CLAIM#x") }},
		{name: "no version", change: func(m map[string]types.AttributeValue) { delete(m, attrVersion) }},
		{name: "string definition", change: func(m map[string]types.AttributeValue) { m[attrDef] = avS("{}") }},
		{name: "bad time", change: func(m map[string]types.AttributeValue) { m[attrNextAt] = avS("yesterday") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			item := valid()
			tt.change(item)
			if _, _, err := decodeHook(item); err == nil {
				t.Fatal("decodeHook accepted a corrupt item")
			}
		})
	}
}

func TestFormatTime_SortsLikeTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{
		base, base.Add(time.Nanosecond), base.Add(999 * time.Millisecond), base.Add(time.Second),
		base.Add(-time.Nanosecond), time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("y", -7200)),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	strs := make([]string, len(times))
	for i, tm := range times {
		strs[i] = formatTime(tm)
		back, err := parseTime(strs[i])
		if err != nil || !back.Equal(tm) {
			t.Fatalf("parseTime(%s) = %v, %v; want %v", strs[i], back, err, tm)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	sort.Strings(strs)
	for i := range times {
		if formatTime(times[i]) != strs[i] {
			t.Fatalf("string order differs from time order at %d: %s vs %s", i, formatTime(times[i]), strs[i])
		}
	}
}

func TestTTLSeconds_RoundsUp(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{at: time.Unix(100, 0), want: "100"},
		{at: time.Unix(100, 1), want: "101"},
		{at: time.Unix(100, 999999999), want: "101"},
	} {
		if got := ttlSeconds(tt.at); got != tt.want {
			t.Errorf("ttlSeconds(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestFirePK_Unambiguous(t *testing.T) {
	pairs := [][2]string{{"a#b", "c"}, {"a", "b#c"}, {"a", "b"}, {"a#1#b", "c"}, {"a", "1#b#c"}, {"", "a#b"}, {"a", "h/x"}, {"a", "h"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		pk := firePK(p[0], p[1])
		if prev, ok := seen[pk]; ok {
			t.Fatalf("firePK(%q) = firePK(%q) = %q", p, prev, pk)
		}
		seen[pk] = p
	}
}

func TestMapErr(t *testing.T) {
	for _, tt := range []struct {
		name         string
		err          error
		wantConflict bool
	}{
		{name: "condition refused", err: &types.ConditionalCheckFailedException{Message: aws.String("refused")}, wantConflict: true},
		{name: "wrapped condition refused", err: fmt.Errorf("op: %w", &types.ConditionalCheckFailedException{}), wantConflict: true},
		{name: "missing table", err: &types.ResourceNotFoundException{Message: aws.String("no table")}},
		{name: "other", err: errors.New("boom")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mapErr(tt.err)
			if errors.Is(got, store.ErrConflict) != tt.wantConflict {
				t.Fatalf("mapErr(%v) = %v, conflict want %v", tt.err, got, tt.wantConflict)
			}
			if errors.Is(got, store.ErrNotFound) {
				t.Fatalf("mapErr(%v) = ErrNotFound; a backend failure must not look like a missing item", tt.err)
			}
			if !errors.Is(got, tt.err) {
				t.Fatalf("mapErr dropped the native error: %v", got)
			}
		})
	}
	if mapErr(nil) != nil {
		t.Fatal("mapErr(nil) != nil")
	}
}

func TestTableDefinition(t *testing.T) {
	def := TableDefinition("t")
	if aws.ToString(def.TableName) != "t" || def.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("name %q billing %q", aws.ToString(def.TableName), def.BillingMode)
	}
	keys := func(ks []types.KeySchemaElement) string {
		var s string
		for _, k := range ks {
			s += fmt.Sprintf("%s:%s ", aws.ToString(k.AttributeName), k.KeyType)
		}
		return s
	}
	if got := keys(def.KeySchema); got != "pk:HASH sk:RANGE " {
		t.Fatalf("table keys = %q", got)
	}
	if len(def.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("%d GSIs, want 1", len(def.GlobalSecondaryIndexes))
	}
	gsi := def.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != DueIndex || keys(gsi.KeySchema) != "dueShard:HASH dueAt:RANGE " || gsi.Projection.ProjectionType != types.ProjectionTypeKeysOnly {
		t.Fatalf("due index = %s %q %v", aws.ToString(gsi.IndexName), keys(gsi.KeySchema), gsi.Projection.ProjectionType)
	}
	// Every key attribute is defined as a string, and nothing else is.
	defined := map[string]types.ScalarAttributeType{}
	for _, a := range def.AttributeDefinitions {
		defined[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	want := map[string]types.ScalarAttributeType{attrPK: "S", attrSK: "S", attrDueShard: "S", attrDueAt: "S"}
	if diff := cmp.Diff(want, defined); diff != "" {
		t.Fatalf("attribute definitions (-want +got)\n%s", diff)
	}
	if TTLAttribute() != attrExpiresAt {
		t.Fatalf("TTLAttribute() = %q", TTLAttribute())
	}
	// Each call returns its own value, so a caller may modify it.
	TableDefinition("x").KeySchema[0].AttributeName = aws.String("changed")
	if aws.ToString(TableDefinition("x").KeySchema[0].AttributeName) != attrPK {
		t.Fatal("TableDefinition shares state between calls")
	}
}
