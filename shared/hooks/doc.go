// Package hooks is Hookline's domain: what a hook is, how it is kept, and
// how it fires. It knows nothing of HTTP, AWS, AMQP, bbolt or the
// Taskcluster client; it declares the ports it needs (ports.go) and the
// builder, shared/service, plugs adapters into them.
//
// # Parts
//
// A Service (NewService) is one part per capability, each in its own
// files, all over one store (shared/store) and one fire pipeline:
//
//   - Definitions (definitions.go, check.go): createHook, updateHook,
//     removeHook, the reads of the hooks API, trigger tokens, and the
//     bindings the Pulse bridge listens with. ValidateInput and
//     DecodeInput check a definition without a store, for the API and
//     `hookline validate` alike.
//   - Firing (firing.go): triggerHook and triggerHookWithToken, a hook's
//     status and its last fires.
//   - Scheduler (scheduler.go): Tick fires the scheduled hooks that are due
//     and advances them, emailing owners about failures. A hook's slots
//     come from its plan (plan.go: the definition's cron list with the
//     schedule section of its settings, schedule.go), and its record holds
//     the next one (scheduling.go).
//   - Intake (intake_pulse.go, intake_webhook.go): Pulse messages the
//     bridge forwards, and signed webhook deliveries.
//   - Operations (operations.go, pause.go, settings.go, decisions.go,
//     precheck.go, backfill.go): pauses at three levels, a hook's
//     Hookline-only settings, its decision log and replays, pre-checks (a
//     Checker, which needs no store), schedule listings and backfills.
//   - Outcomes (outcomes.go, outcome_index.go, outcomes_status.go): how
//     the tasks fires created ended, recorded on the fire record and its
//     decision; Poll reads the status of awaited tasks, FireIndex is the
//     bridge's in-memory index of them.
//   - Notifications (notifications.go, notify_settings.go): the
//     dispatcher of hook events (events.go, the EventSink port) to the
//     targets of the hooks' `notify` settings, at most once per event and
//     target, rate-limited, with retries and a delivery loop (Deliver).
//
// history.go caps each hook's fire records and decisions (the store
// enforces it on write); signatures.go counts refused webhook deliveries.
//
// # The fire pipeline
//
// Every fire, whatever asked for it, goes through pipeline.fire (fire.go)
// in named steps: choose the taskId and read the gates (pauses, settings),
// gate (a pause or a payload the triggerSchema refuses ends it), claim or
// render (a retry re-sends what an earlier attempt claimed; a first attempt
// runs the filters, renders the JSON-e template and claims it), create
// (createTask on the queue), and finish, the one place that records the
// fire's decision and fire record (record.go) and logs its outcome. The
// renderer (render.go, filters.go) caches compiled templates, schemas and
// filters by content.
//
// Firing exactly once rests on three things: a taskId decided before
// anything else (the schedule slot's, a digest of a Pulse message, an
// idempotency key's, or a payload's), a claim that stores the rendered task
// before createTask is called, and a queue that treats an identical
// createTask as a no-op (docs/architecture.md tells the whole protocol).
//
// # Errors
//
// Errors meant for API callers are *Error values whose Kind is ErrInvalid,
// ErrUnauthorized, ErrNotFound, ErrConflict or ErrPaused; store errors are
// mapped to these where the domain reads the store. A fire that failed at
// the template or the queue is a *FireError; what the queue said reaches it
// through the QueueRefusal and Retryable interfaces, which the Taskcluster
// client's errors implement. httpapi turns all of them into answers in one
// place.
package hooks
