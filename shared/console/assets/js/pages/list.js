// The hook list: every group and hook the caller may list, searchable, with
// each hook's last fire (and how its task ended), next scheduled date and
// pause. Rows render at
// once from the definitions; the status columns load as rows scroll into
// view, a few requests at a time.

import {h, time, ago, badge, debounce, hookHref} from "../dom.js";
import {api, limiter} from "../api.js";
import {taskRef, outcomeBadge} from "../outcomes.js";
import {session} from "../session.js";
import {need, mayHoldPrefix} from "../scopes.js";
import {showError} from "../errors.js";

export async function render(main, {signal}) {
  const search = h("input", {type: "search", id: "hook-search", autocomplete: "off", spellcheck: "false"});
  const count = h("p", {class: "count", id: "hook-count", role: "status"});
  const listing = h("div", {id: "hook-list"});
  main.replaceChildren(
    h("div", {class: "page-head"}, h("h1", null, "Hooks"),
      mayHoldPrefix(session.who.scopes, "hooks:modify-hook:") ? h("a", {class: "button", href: "#/new", id: "new-hook"}, "New hook") : null),
    h("div", {class: "search"}, h("label", {for: "hook-search"}, "Search hooks"), search,
      h("span", {class: "hint"}, "by group, hook id, name or owner")),
    count, listing);

  let groups;
  try {
    groups = (await api.listGroups({signal})).groups;
  } catch (err) {
    showError(listing, err, "Listing hook groups");
    return;
  }
  const results = await Promise.all(groups.map((g) =>
    api.listHooks(g, {signal}).then((r) => ({g, hooks: r.hooks}), (err) => ({g, err}))));
  if (signal.aborted) return;
  performance.mark("hookline:hooks-fetched");

  const rows = [];
  const sections = [];
  const frag = document.createDocumentFragment();
  for (const {g, hooks, err} of results) {
    const groupBadge = h("span", {class: "group-pause"});
    const section = h("section", {class: "group", "aria-labelledby": `group-${g}`},
      h("h2", {id: `group-${g}`}, g, " ", groupBadge));
    sections.push({section, rows: []});
    if (err) {
      const slot = h("div");
      section.append(slot);
      showError(slot, err, `Listing the hooks of ${g}`);
      frag.append(section);
      continue;
    }
    // An ARIA table of grid rows rather than a <table>: rows can then skip
    // layout while off screen (content-visibility), which keeps a list of
    // thousands of hooks quick to show.
    const body = h("div", {role: "rowgroup"});
    for (const def of hooks) {
      const row = hookRow(g, def);
      rows.push(row);
      sections.at(-1).rows.push(row);
      body.append(row);
    }
    section.append(h("div", {class: "hooks", role: "table", "aria-labelledby": `group-${g}`},
      h("div", {role: "rowgroup", class: "hooks-head"}, h("div", {role: "row", class: "hrow"},
        ["Hook", "Name", "Last fire", "Next fire", "State"].map((c) => h("span", {role: "columnheader"}, c)))),
      body));
    frag.append(section);
    if (session.can(need.readGroupPause(g))) {
      api.getPause({hookGroupId: g}, {signal}).then((st) => {
        if (st.paused) groupBadge.replaceChildren(badge("group paused", "paused"), " ", h("span", {class: "hint"}, st.pause.reason));
      }, () => {});
    }
  }
  if (groups.length === 0) {
    frag.append(h("p", null, "No hooks yet. ", session.who.authenticated ? h("a", {href: "#/new"}, "Create one.") : "Sign in to create one."));
  }
  listing.replaceChildren(frag);
  const total = rows.length;
  count.textContent = `${total} hook${total === 1 ? "" : "s"} in ${groups.length} group${groups.length === 1 ? "" : "s"}`;
  // The moment the list is on screen, for the console's own measurements.
  requestAnimationFrame(() => performance.mark("hookline:hooks-listed", {detail: {hooks: total}}));

  const filter = () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const s of sections) {
      let any = false;
      for (const r of s.rows) {
        const hit = !q || r.dataset.search.includes(q);
        r.hidden = !hit;
        if (hit) any = true;
        shown += hit ? 1 : 0;
      }
      s.section.hidden = q !== "" && !any;
    }
    count.textContent = q ? `${shown} of ${total} hooks match “${search.value.trim()}”` : `${total} hooks in ${groups.length} groups`;
  };
  search.addEventListener("input", debounce(filter, 120));

  // Status columns, for the rows that are on screen.
  const run = limiter(4);
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      run(() => loadStatus(e.target, signal)).catch(() => {});
    }
  }, {rootMargin: "200px"});
  signal.addEventListener("abort", () => seen.disconnect());
  for (const r of rows) seen.observe(r);
}

// rowTemplate is cloned for every hook: cloning one prepared row is several
// times faster than building each from scratch, which matters at 1,000.
let rowTemplate = null;

function hookRow(g, def) {
  if (!rowTemplate) {
    rowTemplate = h("div", {role: "row", class: "hrow"},
      h("span", {role: "rowheader"}, h("a")),
      h("span", {role: "cell"}),
      h("span", {role: "cell", class: "last-fire"}, h("span", {class: "pending"}, "…")),
      h("span", {role: "cell", class: "next-fire"}, h("span", {class: "pending"}, "…")),
      h("span", {role: "cell", class: "state"}, h("span", {class: "pending"}, "…")));
  }
  const id = def.hookId;
  const name = def.metadata?.name || "";
  const owner = def.metadata?.owner || "";
  const tr = rowTemplate.cloneNode(true);
  tr.dataset.search = `${g}/${id} ${name} ${owner}`.toLowerCase();
  tr.dataset.group = g;
  tr.dataset.hook = id;
  const [th, nameCell] = tr.children;
  th.firstChild.href = hookHref(g, id);
  th.firstChild.textContent = id;
  nameCell.textContent = name;
  return tr;
}

async function loadStatus(tr, signal) {
  const g = tr.dataset.group;
  const id = tr.dataset.hook;
  const [lastCell, nextCell, stateCell] = [tr.querySelector(".last-fire"), tr.querySelector(".next-fire"), tr.querySelector(".state")];
  const noScope = (cell, expr) => cell.replaceChildren(h("span", {class: "hint", title: `Needs ${session.missing(expr).join(", ")}`}, "—"));
  const jobs = [];
  // One call per row for both columns: the status extension reads the
  // last fire and its task's outcome from Hookline's own record (no call
  // to the queue), and the next fire with the schedule settings applied.
  if (session.can(need.status(g, id))) {
    jobs.push(api.outcomeStatus(g, id, {signal}).then((st) => {
      const lf = st.lastFire || {};
      if (lf.result === "success") {
        lastCell.replaceChildren(badge("created"), " ", ago(lf.time), " ", taskRef(lf.taskId), " ", outcomeBadge(lf.task));
      } else if (lf.result === "error") {
        lastCell.replaceChildren(badge("error", "queue-error"), " ", ago(lf.time), " ",
          h("span", {class: "hint"}, lf.error?.message || JSON.stringify(lf.error)));
      } else {
        lastCell.replaceChildren(h("span", {class: "hint"}, "never fired"));
      }
      nextCell.replaceChildren(st.nextScheduledDate ? time(st.nextScheduledDate) : h("span", {class: "hint"}, "not scheduled"));
    }, () => {
      lastCell.replaceChildren("?");
      nextCell.replaceChildren("?");
    }));
  } else {
    noScope(lastCell, need.status(g, id));
    noScope(nextCell, need.status(g, id));
  }
  if (session.can(need.getHook(g, id))) {
    jobs.push(api.getPause({hookGroupId: g, hookId: id}, {signal}).then((st) => {
      stateCell.replaceChildren(st.paused ? h("span", {title: st.pause.reason}, badge("paused")) : h("span", {class: "hint"}, "active"));
    }, () => stateCell.replaceChildren("?")));
  } else noScope(stateCell, need.getHook(g, id));
  await Promise.all(jobs);
}
