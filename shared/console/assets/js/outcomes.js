// How the tasks that fires created ended, as Hookline records them on the
// fire record and the decision (completed, failed, exception with its
// reason), shown alike on every page.

import {h, badge, ago, time} from "./dom.js";
import {taskURL} from "./api.js";

// taskStates are the outcomes a task can end with.
export const taskStates = ["completed", "failed", "exception"];

// taskRef links a task where it can be seen, or names it.
export function taskRef(taskId) {
  if (!taskId) return null;
  const link = taskURL(taskId);
  return link ? h("a", {href: link, class: "task"}, taskId) : h("code", null, taskId);
}

// reasonOf is what to add to the state: an exception's reason, or a run
// resolved for another reason than its state says.
const reasonOf = (task) => (task.reasonResolved && task.reasonResolved !== task.state ? task.reasonResolved : "");

// outcomeBadge is a task outcome in a line: its state as a badge, the
// reason of an exception, and when it was resolved. Without an outcome
// (the task still runs, or it is not known yet) it says so, quietly.
export function outcomeBadge(task, {awaiting = true} = {}) {
  if (!task) return awaiting ? h("span", {class: "task-state state-awaiting", title: "The task has not been resolved, or Hookline has not heard yet"}, "outcome not known yet") : null;
  const reason = reasonOf(task);
  return h("span", {class: `task-outcome state-${task.state}`, dataset: {taskState: task.state}},
    badge(`task ${task.state}`, task.state), reason ? [" ", h("code", null, reason)] : null,
    task.resolved ? [" ", ago(task.resolved)] : null);
}

// outcomeFacts are the rows of a task outcome for a <dl class="facts">.
export function outcomeFacts(task) {
  const rows = [["State", badge(task.state)]];
  if (reasonOf(task)) rows.push(["Reason", h("code", null, task.reasonResolved)]);
  rows.push(["Run", String(task.runId)]);
  if (task.resolved) rows.push(["Resolved", time(task.resolved)]);
  if (task.recorded) rows.push(["Recorded", time(task.recorded)]);
  if (task.source) rows.push(["Heard by", task.source === "event" ? "the queue's task event" : "reading the task's status"]);
  return rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]);
}
