package hooks

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hookline/hookline/shared/store"
)

// A second delivery of a fire that is done (the same Idempotency-Key, a
// webhook's delivery id, a redelivered Pulse message) answers with the
// same task and records nothing new: one task, one decision, one fire
// record.
func TestDuplicateDeliveriesRecordOnce(t *testing.T) {
	testDuplicateDeliveries(t, func(t *testing.T) *schedEnv { return newOperateEnv(t) })
}

// testDuplicateDeliveries runs the duplicate deliveries on the stores
// newEnv makes (tick_race_dynamo_integration_test.go: DynamoDB).
func testDuplicateDeliveries(t *testing.T, newEnv func(t *testing.T) *schedEnv) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		fire func(t *testing.T, e *schedEnv) (taskID string, taken bool)
	}{
		{"triggerHook with Idempotency-Key", func(t *testing.T, e *schedEnv) (string, bool) {
			res, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"n": 1}, "client", "key-1")
			if err != nil {
				t.Fatal(err)
			}
			return res.TaskID, res.AlreadyTaken
		}},
		{"token trigger with Idempotency-Key", func(t *testing.T, e *schedEnv) (string, bool) {
			tok, err := e.svc.Definitions.TriggerToken(ctx, "g", "h")
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.svc.Firing.TriggerHookWithToken(ctx, "g", "h", tok, map[string]any{"n": 1}, "key-1")
			if err != nil {
				t.Fatal(err)
			}
			return res.TaskID, res.AlreadyTaken
		}},
		{"webhook redelivery", func(t *testing.T, e *schedEnv) (string, bool) {
			tok, err := e.svc.Definitions.TriggerToken(ctx, "g", "h")
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"n":1}`)
			target, err := e.svc.Intake.VerifyWebhook(ctx, "g", "h", WebhookCredentials{Authorization: "Bearer " + tok}, body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.svc.Intake.FireWebhook(ctx, target, WebhookDelivery{Payload: map[string]any{"n": 1}, DeliveryID: "d-1", Event: "push"})
			if err != nil {
				t.Fatal(err)
			}
			return res.TaskID, res.AlreadyTaken
		}},
		{"Pulse redelivery", func(t *testing.T, e *schedEnv) (string, bool) {
			res, err := e.svc.Intake.FirePulseMessage(ctx, PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "rk", Payload: json.RawMessage(`{"n":1}`)})
			if err != nil || res.Outcome != PulseFired {
				t.Fatalf("%+v %v", res, err)
			}
			return res.TaskID, res.Duplicate
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.operableHook(t, "g", "h")
			first, taken := tt.fire(t, e)
			if first == "" || taken {
				t.Fatalf("first delivery: task %q, taken %v", first, taken)
			}
			again, taken := tt.fire(t, e)
			if again != first || !taken {
				t.Fatalf("second delivery: task %q (first %q), taken %v", again, first, taken)
			}
			fires, _, err := e.store.ListLastFires(ctx, "g", "h", store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if ds := e.decisions(t, "g", "h"); len(ds) != 1 || ds[0].Outcome != OutcomeCreated || len(fires) != 1 || e.queue.taskCount() != 1 {
				t.Fatalf("%d decisions %+v, %d fire records, %d tasks", len(ds), ds, len(fires), e.queue.taskCount())
			}
		})
	}
}
