import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { problemText } from "../../api/client";
import { useSession } from "../../auth/session";
import { FilterSelect } from "../../components/FilterSelect";
import { Empty, ErrorState, Loading } from "../../components/States";
import { when } from "../../lib/format";
import { useAssignableMembers, useBulkChange, useIssueList, type IssueFilters, type IssueState } from "./queries";
import { StateBadge } from "./StateBadge";
import { toggled, toggledAll } from "./timeline";
import styles from "./Issues.module.css";
import ui from "../../components/ui.module.css";

const STATES: IssueState[] = ["unresolved", "resolved", "ignored"];

function filtersOf(params: URLSearchParams): IssueFilters {
  const filters: IssueFilters = {};
  const state = params.get("state");
  // Unresolved is what needs attention: the default view.
  if (state === null) filters.state = "unresolved";
  else if ((STATES as string[]).includes(state)) filters.state = state as IssueState;
  const assignee = params.get("assignee");
  if (assignee === "none") filters.unassigned = true;
  else if (assignee) filters.assignee_id = assignee;
  return filters;
}

export function IssuesPage() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const issues = useIssueList(filters);
  const members = useAssignableMembers();
  const bulk = useBulkChange();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const canChange = session.can("changeIssues");

  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    next.set(name, value);
    if (!value && name !== "state") next.delete(name);
    setParams(next, { replace: true });
    setSelected(new Set());
  }
  const items = issues.data?.pages.flatMap((p) => p.items) ?? [];
  const shown = items.map((i) => i.id);
  const chosen = shown.filter((id) => selected.has(id));

  function change(state_change: { state: "resolved" } | { state: "ignored" } | { state: "unresolved" }) {
    bulk.mutate({ issue_ids: chosen, state_change }, { onSuccess: () => setSelected(new Set()) });
  }

  return (
    <>
      <h1>Issues</h1>
      <p className={ui.muted}>
        Each error (its fingerprint within a repository) is one issue; every report of it is an occurrence. A resolved issue seen again in a
        later release reopens as a regression.
      </p>
      <div className={styles.filters}>
        <FilterSelect label="State" value={params.get("state") ?? "unresolved"} onChange={(v) => set("state", v)} options={STATES} />
        <FilterSelect
          label="Assignee"
          value={params.get("assignee") ?? ""}
          onChange={(v) => set("assignee", v)}
          anyLabel="anyone"
          options={[["none", "nobody"], ...(members.data ?? []).map((m) => [m.user_id, m.display_name] as const)]}
        />
      </div>

      {canChange && items.length > 0 && (
        <div className={styles.bulk} role="group" aria-label="Selected issues">
          <span>{chosen.length} selected</span>
          <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => change({ state: "resolved" })}>
            Resolve selected
          </button>
          <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => change({ state: "ignored" })}>
            Ignore selected
          </button>
          <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => change({ state: "unresolved" })}>
            Reopen selected
          </button>
          {bulk.isError && (
            <p role="alert" className={ui.error}>
              {problemText(bulk.error)}
            </p>
          )}
        </div>
      )}

      {issues.isPending && <Loading label="Loading issues" />}
      {issues.isError && <ErrorState error={issues.error} retry={() => void issues.refetch()} />}
      {issues.isSuccess && items.length === 0 && (
        <Empty>{filters.state === "unresolved" && !filters.assignee_id && !filters.unassigned ? "No unresolved issues." : "No issue matches these filters."}</Empty>
      )}
      {items.length > 0 && (
        <table className={styles.table}>
          <thead>
            <tr>
              {canChange && (
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all shown"
                    checked={chosen.length > 0 && chosen.length === shown.length}
                    onChange={() => setSelected(toggledAll(selected, shown))}
                  />
                </th>
              )}
              <th scope="col">Issue</th>
              <th scope="col">State</th>
              <th scope="col">Culprit</th>
              <th scope="col">Assignee</th>
              <th scope="col">Occurrences</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.id}>
                {canChange && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${i.title}`}
                      checked={selected.has(i.id)}
                      onChange={() => setSelected(toggled(selected, i.id))}
                    />
                  </td>
                )}
                <td>
                  <Link to={`/issues/${i.id}`}>{i.title}</Link>
                </td>
                <td>
                  <StateBadge state={i.state} />
                  {i.resolved_in_release && <div className={ui.muted}>in {i.resolved_in_release}</div>}
                </td>
                <td>{i.culprit ? <code>{i.culprit}</code> : "—"}</td>
                <td>{i.assignee ? (i.assignee.name ?? "a member") : "—"}</td>
                <td>{i.occurrence_count}</td>
                <td title={i.first_seen_at}>{when(i.first_seen_at)}</td>
                <td title={i.last_seen_at}>{when(i.last_seen_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {issues.hasNextPage && (
        <p>
          <button type="button" onClick={() => void issues.fetchNextPage()} disabled={issues.isFetchingNextPage}>
            {issues.isFetchingNextPage ? "Loading…" : "More issues"}
          </button>
        </p>
      )}
    </>
  );
}
