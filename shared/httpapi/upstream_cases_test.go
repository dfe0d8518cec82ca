package httpapi

// Where each upstream hooks test case (shared/reference/taskcluster-hooks/
// TEST-CASES.md) is covered, or why we differ. Numbers are TEST-CASES.md's.
//
// api_test.js
//   createHook
//    1 create = get, hook-created published .. TestCreateHook (audit rows: we
//      write an info log line per change instead of an audit table)
//    2/18/24 publish fails → 500 ............. TestChangeAnnouncementFailure
//    3 hookId with a slash .................... TestCreateHookWithSlashInHookID
//    4 wrong scopes refused ................... TestRouteScopesEnforced/createHook
//    5 slash in hookGroupId ................... TestCreateHookErrors/slash_in_hookGroupId
//    6 illegal hookId ......................... TestCreateHookErrors/illegal_hookId
//    7 binding without routingKeyPattern ...... TestCreateHookErrors
//    8 bindings not an array .................. TestCreateHookErrors
//    9 identical re-create .................... TestCreateHookIdempotent (we also
//      accept it when bindings are omitted; upstream 409s, SPEC §12.2)
//   10 different re-create .................... TestCreateHookIdempotent (a real
//      409; upstream's test only reaches a schema error, SPEC §12.3)
//   11 group listed after create .............. TestListHookGroups
//   12 no schedule → no nextScheduledDate ..... TestHookStatus
//   13 daily schedule → nextScheduledDate ..... TestHookStatus
//   14 invalid cron → 400 ..................... TestCreateHookErrors/invalid_cron
//   15/16 body ids equal / differ ............. TestCreateHookIDsMatchingURL, TestCreateHookErrors
//  updateHook
//   17 update owner, task unchanged ........... TestUpdateHook
//   19 missing hook → 404 ..................... TestUpdateHookErrors/missing_hook
//   20 invalid cron → 400 ..................... TestUpdateHookErrors/invalid_cron
//   21/22 body ids equal / differ ............. TestUpdateHookIDsMatchingURL, TestUpdateHookErrors
//  removeHook
//   23 gone after removal, deleted published .. TestRemoveHook (listLastFires of a
//      removed hook is 404 because the hook is gone; upstream 404s for "never fired")
//   25 history removed with the hook .......... TestListLastFiresPaging
//   26 last hook gone → group 404 ............. TestRemoveHook
//  listHookGroups / listHooks / hook
//   27/29/31 no credentials → 403 ............. TestRouteScopesEnforced (anonymous)
//   28 four groups listed ..................... TestListHookGroups
//   30 only the group's hooks ................. TestListHooks
//   32/33 get / missing ....................... TestGetHook
//  getTriggerToken / resetTriggerToken
//   34/35, 55/56 .............................. TestTriggerTokens, TestTriggerMissingHook
//  getHookStatus
//   36 no credentials ......................... TestRouteScopesEnforced/getHookStatus
//   37-41 no-fire / scheduled / success / error TestHookStatus (a JSON error text is
//      stored by our queue error path; the {message} wrapping of plain text is
//      tested; parsing JSON text is the same code path: json.Unmarshal first)
//   42 missing hook → 404 ..................... TestTriggerMissingHook
//  triggerHook
//   43 context firedBy/clientId/payload ....... TestTriggerHook
//   44 declined → {} .......................... TestTriggerDeclined
//   45 generic failure → 400 .................. TestTriggerErrors/render_error
//   46 other API error → 400 "While calling" .. TestTriggerErrors/queue_input_error
//   47 InsufficientScopes → 403 role message .. TestTriggerErrors/queue_refuses_for_scopes
//   48/49 payload taskId valid / invalid ...... TestTriggerWithPayloadTaskID, TestTriggerErrors
//   50 missing hook → 404 ..................... TestTriggerMissingHook
//  schemaTests
//   51/52 payload breaks triggerSchema ........ TestTriggerErrors
//   53/54 triggerSchema not a schema .......... TestCreateHookErrors, TestUpdateHookErrors
//  triggerHookWithToken
//   57-63 ..................................... TestTriggerTokens, TestTokenRouteIsPublic
//  listLastFires
//   64 no credentials ......................... TestRouteScopesEnforced/listLastFires
//   65/66 listed newest first with taskState .. TestTriggerHook, TestListLastFiresPaging,
//      shared/hooks TestFillTaskStates ("unknown" for a task the queue lacks).
//      A hook that never fired lists [] (upstream 404s, SPEC §12.7).
//  pulseHooks
//   67 create with bindings ................... TestCreateHookWithBindings
//   68 hook-created triggers reconcile ........ shared/pulse tests
//   69/70 denied exchange on create / update .. TestCreateHookErrors, TestUpdateHookErrors
//
// validate_test.js 1-7: schemas TestUpstreamFixtures, TestCreateHookValidSchedules,
//   shared/cron fixture tests.
// trigger_schema_test.js 1-2: schemas TestValidateUser.
// taskcreator_test.js
//   1 top-level $if ........................... TestTriggerDeclined, shared/hooks TestRender
//   2 JSON-e context, defaults, offsets ....... shared/hooks TestRender
//   3 declined ................................ TestTriggerDeclined, shared/hooks TestDeclinedScheduleAdvancesWithoutRecord
//   4 syntax error recorded ................... TestTriggerErrors/render_error
//   5 network error recorded .................. TestTriggerErrors/queue_unreachable
//   6/7 template's own times and group kept ... shared/hooks TestRender
//   8 deterministic render .................... shared/hooks TestRenderIsDeterministic
//   9/10 context values, generated taskId ..... TestTriggerHook
//   11/12 appendLastFire ...................... storetest LastFires (both backends)
//   13 MockTaskCreator: test scaffolding only, nothing to port.
// expires_test.js 1: embedded TestExpireLastFires (DynamoDB expires by TTL).
// scheduler_test.js
//   1 polling loop: EventBridge's rate(1 minute) in AWS; `hookline serve`
//     runs a ticker (cmd/hookline runScheduler). Tick behaviour is tested.
//   2 only due hooks .......................... shared/hooks TestTickSkipsHooksNotDue
//   3 fire with nextTaskId at the slot time ... shared/hooks TestTickFiresDueHookWithItsSlot
//   4 non-5xx: email and advance .............. shared/hooks TestQueue4xxEmailsAndAdvances
//   5 email failure swallowed ................. shared/hooks TestEmailFailureDoesNotStopTick
//   6 5xx: no email, no change ................ shared/hooks TestQueue5xxLeavesSlotDue
//   7 email text .............................. shared/hooks TestQueue4xxEmailsAndAdvances
//   8 denylisted address logged once .......... shared/hooks TestEmailFailureDoesNotStopTick
// schedule_hooks_test.js 1: upstream's component loader; we have no loader
//   (wiring is shared/service), so there is nothing to port.
