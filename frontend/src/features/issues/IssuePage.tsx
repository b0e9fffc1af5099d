import { useState, type SubmitEvent } from "react";
import { Link, useParams } from "react-router";
import { problemText } from "../../api/client";
import { useSession } from "../../auth/session";
import { ErrorState, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { exact, when } from "../../lib/format";
import { useAssignableMembers, useIssue, useUpdateIssue } from "./queries";
import { StateBadge } from "./StateBadge";
import { describe, ignoreChange } from "./timeline";
import styles from "./Issues.module.css";
import ui from "../../components/ui.module.css";

export function IssuePage() {
  const { id = "" } = useParams();
  const issue = useIssue(id);
  if (issue.isPending) return <Loading label="Loading the issue" />;
  if (issue.isError) return <ErrorState error={issue.error} retry={() => void issue.refetch()} />;
  return <IssueView issue={issue.data} />;
}

type Issue = NonNullable<ReturnType<typeof useIssue>["data"]>;

function IssueView({ issue }: { issue: Issue }) {
  const session = useSession();
  const canChange = session.can("changeIssues");
  const update = useUpdateIssue(issue.id);
  const members = useAssignableMembers();
  const [release, setRelease] = useState("");
  const [count, setCount] = useState("");
  const [until, setUntil] = useState("");
  const [formError, setFormError] = useState<string | null>(null);
  const names = new Map((members.data ?? []).map((m) => [m.user_id, m.display_name]));
  if (issue.assignee?.name) names.set(issue.assignee.id, issue.assignee.name);

  function resolve(event: SubmitEvent) {
    event.preventDefault();
    setFormError(null);
    const in_release = release.trim();
    update.mutate({ state_change: in_release ? { state: "resolved", in_release } : { state: "resolved" } });
  }
  function ignore(event: SubmitEvent) {
    event.preventDefault();
    const change = ignoreChange(count, until);
    if (typeof change === "string") {
      setFormError(change);
      return;
    }
    setFormError(null);
    update.mutate({ state_change: change });
  }

  return (
    <>
      <div className={styles.header}>
        <div>
          <p className={ui.muted}>
            <Link to="/issues">Issues</Link>
          </p>
          <h1>{issue.title}</h1>
          <dl className={styles.facts}>
            <div>
              <dt>State</dt>
              <dd>
                <StateBadge state={issue.state} />
                {issue.resolved_in_release && ` in release ${issue.resolved_in_release}`}
                {issue.resolved_in_commit && ` in commit ${issue.resolved_in_commit.slice(0, 12)}`}
                {issue.ignore_until_count !== null && ` until ${issue.ignore_until_count} occurrences`}
                {issue.ignore_until && ` until ${exact(issue.ignore_until)}`}
              </dd>
            </div>
            <div>
              <dt>Occurrences</dt>
              <dd>{issue.occurrence_count}</dd>
            </div>
            <div>
              <dt>First seen</dt>
              <dd title={exact(issue.first_seen_at)}>{when(issue.first_seen_at)}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd title={exact(issue.last_seen_at)}>{when(issue.last_seen_at)}</dd>
            </div>
            {issue.culprit && (
              <div>
                <dt>Culprit</dt>
                <dd>
                  <code>{issue.culprit}</code>
                </dd>
              </div>
            )}
            <div>
              <dt>Assignee</dt>
              <dd>{issue.assignee ? (issue.assignee.name ?? "a member") : "nobody"}</dd>
            </div>
            {issue.code_owners.length > 0 && (
              <div>
                <dt>Code owners</dt>
                <dd>{issue.code_owners.join(", ")}</dd>
              </div>
            )}
          </dl>
        </div>
      </div>

      <div className={styles.grid}>
        <section aria-labelledby="timeline">
          <h2 id="timeline">Timeline</h2>
          <ol className={styles.timeline}>
            {issue.timeline.map((entry, index) => (
              <li key={index} className={entry.kind === "regression" ? styles.regression : undefined}>
                <time dateTime={entry.at} title={exact(entry.at)}>
                  {when(entry.at)}
                </time>
                {describe(entry, names)}
              </li>
            ))}
          </ol>
          <h2 id="reports">Reports</h2>
          <ul>
            {issue.reports.map((r) => (
              <li key={r.id}>
                <Link to={`/reports/${r.id}`}>{exact(r.created_at)}</Link> <StatusBadge status={r.status} /> · {r.occurrence_count} occurrence
                {r.occurrence_count === 1 ? "" : "s"}
                {r.commit_hash && (
                  <>
                    {" "}
                    · <code>{r.commit_hash.slice(0, 12)}</code>
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>

        <aside className={styles.controls} aria-label="Change the issue">
          {canChange ? (
            <>
              <form onSubmit={resolve}>
                <fieldset>
                  <legend>Resolve</legend>
                  <label>
                    <span>In release (optional)</span>
                    <input value={release} onChange={(e) => setRelease(e.target.value)} placeholder="e.g. 1.2.0" maxLength={200} />
                  </label>
                  <button type="submit" className={ui.primary} disabled={update.isPending}>
                    Resolve
                  </button>
                </fieldset>
              </form>
              <form onSubmit={ignore}>
                <fieldset>
                  <legend>Ignore</legend>
                  <label>
                    <span>Until N more occurrences</span>
                    <input type="number" min={1} value={count} onChange={(e) => setCount(e.target.value)} />
                  </label>
                  <label>
                    <span>Until</span>
                    <input type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
                  </label>
                  <button type="submit" disabled={update.isPending}>
                    Ignore
                  </button>
                </fieldset>
              </form>
              {issue.state !== "unresolved" && (
                <p>
                  <button type="button" disabled={update.isPending} onClick={() => update.mutate({ state_change: { state: "unresolved" } })}>
                    Reopen
                  </button>
                </p>
              )}
              {members.isSuccess && (
                <label>
                  <span>Assignee</span>
                  <select
                    value={issue.assignee?.id ?? ""}
                    disabled={update.isPending}
                    onChange={(e) => update.mutate({ assignee_id: e.target.value || null })}
                  >
                    <option value="">nobody</option>
                    {members.data.map((m) => (
                      <option key={m.user_id} value={m.user_id}>
                        {m.display_name}
                        {m.email ? ` (${m.email})` : ""}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {(formError ?? update.error) && (
                <p role="alert" className={ui.error}>
                  {formError ?? problemText(update.error)}
                </p>
              )}
            </>
          ) : (
            <p className={ui.muted}>Viewers can read issues; a member can resolve, ignore or assign them.</p>
          )}
          {issue.releases.length > 0 && (
            <section aria-labelledby="releases">
              <h2 id="releases">Seen in releases</h2>
              <ul>
                {issue.releases.map((r) => (
                  <li key={r.name}>
                    <code>{r.name}</code>: {r.count} × (last {when(r.last_seen)})
                  </li>
                ))}
              </ul>
            </section>
          )}
          {issue.commits.length > 0 && (
            <section aria-labelledby="commits">
              <h2 id="commits">Seen at commits</h2>
              <ul>
                {issue.commits.map((c) => (
                  <li key={c.name}>
                    <code>{c.name.slice(0, 12)}</code>: {c.count} ×
                  </li>
                ))}
              </ul>
            </section>
          )}
        </aside>
      </div>
    </>
  );
}
