import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { problemText, type Schemas } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { CopyButton } from "../../components/CopyButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { exact, percent, when } from "../../lib/format";
import { repositoryName, useRepositoryList } from "../repositories";
import { CodeBlock } from "./CodeBlock";
import { fileLink } from "./links";
import {
  downloadMarkdown,
  isActive,
  useCreateLinkedIssue,
  useDeleteReport,
  useLinkedIssue,
  useOccurrences,
  useRerun,
  useReport,
} from "./queries";
import { asDiagnosis, type Diagnosis, type Frame } from "./types";
import styles from "./Report.module.css";
import ui from "../../components/ui.module.css";

/** The report's GitHub issue or Azure DevOps work item: its link, or the button that creates it. */
function LinkedIssue({ reportId, provider, canCreate }: { reportId: string; provider: string; canCreate: boolean }) {
  const linked = useLinkedIssue(reportId, true);
  const create = useCreateLinkedIssue(reportId);
  const what = provider === "github" ? "GitHub issue" : "work item";
  if (linked.isPending) return null;
  const link = create.data ?? linked.data;
  return (
    <section aria-labelledby="linked-issue" className={`${ui.card} ${styles.tracked}`}>
      <h2 id="linked-issue">Tracked in</h2>
      {link ? (
        <>
          <p>
            <a href={link.url} target="_blank" rel="noreferrer">
              {provider === "github" ? `GitHub issue #${link.external_id}` : `Work item ${link.external_id}`}
            </a>
          </p>
          {link.pull_request_comment_url && (
            <p>
              <a href={link.pull_request_comment_url} target="_blank" rel="noreferrer">
                Comment on the suspect commit&apos;s pull request
              </a>
            </p>
          )}
          {create.data?.pull_request_note && <p className={ui.muted}>{create.data.pull_request_note}</p>}
        </>
      ) : (
        <>
          <p className={ui.muted}>No {what} yet.</p>
          {canCreate && (
            <button type="button" className={ui.primary} disabled={create.isPending} onClick={() => create.mutate()}>
              {provider === "github" ? "Create GitHub issue" : "Create work item"}
            </button>
          )}
        </>
      )}
      {linked.isError && <ErrorState error={linked.error} />}
      {create.isError && <ErrorState error={create.error} />}
    </section>
  );
}

export function ReportPage() {
  const { id = "" } = useParams();
  const report = useReport(id);
  if (report.isPending) return <Loading label="Loading the report" />;
  if (report.isError) {
    return (
      <>
        <ErrorState error={report.error} retry={() => void report.refetch()} />
        <p>
          <Link to="/reports">All reports</Link>
        </p>
      </>
    );
  }
  return <ReportView report={report.data} />;
}

function ReportView({ report }: { report: Schemas["ReportDetail"] }) {
  const session = useSession();
  const navigate = useNavigate();
  const rerun = useRerun(report.id);
  const remove = useDeleteReport(report.id);
  const occurrences = useOccurrences(report.id, report.occurrence_count > 1);
  const repositories = useRepositoryList();
  const [actionError, setActionError] = useState<string | null>(null);
  const diagnosis = asDiagnosis(report.report_data);
  const repo = repositories.data?.find((r) => r.id === report.repo_id) ?? null;
  const active = isActive(report.status);
  const title = diagnosis?.title ?? (report.status === "failed" ? "Diagnosis failed" : "Being diagnosed…");

  return (
    <article>
      <p>
        <Link to="/reports">← All reports</Link>
      </p>
      <header className={styles.header}>
        <div>
          <h1>{title}</h1>
          <dl className={styles.facts}>
            <div>
              <dt>Status</dt>
              <dd aria-live="polite" data-testid="report-status">
                <StatusBadge status={report.status} />
              </dd>
            </div>
            {diagnosis && (
              <>
                <div>
                  <dt>Category</dt>
                  <dd>{diagnosis.category}</dd>
                </div>
                <div>
                  <dt>Confidence</dt>
                  <dd>{percent(diagnosis.confidence_score)}</dd>
                </div>
                {diagnosis.error_type && (
                  <div>
                    <dt>Error</dt>
                    <dd>{diagnosis.error_type}</dd>
                  </div>
                )}
              </>
            )}
            <div>
              <dt>Occurrences</dt>
              <dd>{report.occurrence_count}</dd>
            </div>
            <div>
              <dt>First seen</dt>
              <dd title={exact(report.created_at)}>{when(report.created_at)}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd title={exact(report.last_seen_at)}>{when(report.last_seen_at)}</dd>
            </div>
            {repo && (
              <div>
                <dt>Repository</dt>
                <dd>{repositoryName(repo)}</dd>
              </div>
            )}
            {report.issue_id && (
              <div>
                <dt>Issue</dt>
                <dd>
                  <Link to={`/issues/${report.issue_id}`}>View the issue</Link>
                </dd>
              </div>
            )}
            {(report.code_owners ?? []).length > 0 && (
              <div>
                <dt>Code owners</dt>
                <dd>{(report.code_owners ?? []).join(", ")}</dd>
              </div>
            )}
          </dl>
        </div>
        <div className={styles.actions}>
          {diagnosis && (
            <button
              type="button"
              onClick={() => {
                setActionError(null);
                downloadMarkdown(report.id).catch((e: unknown) => setActionError(problemText(e)));
              }}
            >
              Download Markdown
            </button>
          )}
          {session.can("rerunReport") && (
            <button type="button" disabled={active || rerun.isPending} onClick={() => rerun.mutate()}>
              Re-run diagnosis
            </button>
          )}
          {session.can("deleteReport") && (
            <ConfirmButton
              confirmLabel="Delete for good"
              disabled={remove.isPending}
              onConfirm={() => remove.mutate(undefined, { onSuccess: () => void navigate("/reports") })}
            >
              Delete report
            </ConfirmButton>
          )}
        </div>
      </header>
      {diagnosis && repo && repo.provider !== "local" && (
        <LinkedIssue reportId={report.id} provider={repo.provider} canCreate={session.can("createLinkedIssue")} />
      )}
      {(actionError ?? rerun.error ?? remove.error) && (
        <ErrorState error={actionError ?? rerun.error ?? remove.error} />
      )}

      {report.status === "failed" && report.error && (
        <div role="alert" className={ui.errorBox}>
          <p>The diagnosis failed after {report.attempts} attempts: {report.error}</p>
        </div>
      )}
      {active && !diagnosis && <Loading label={`The diagnosis is ${report.status}; this page updates by itself`} />}
      {diagnosis && <DiagnosisView diagnosis={diagnosis} repo={repo} />}

      <section className={styles.section} aria-labelledby="occurrences">
        <h2 id="occurrences">Occurrences</h2>
        {report.occurrence_count <= 1 ? (
          <p>Seen once, {exact(report.created_at)}.</p>
        ) : occurrences.isPending ? (
          <Loading />
        ) : occurrences.isError ? (
          <ErrorState error={occurrences.error} />
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {occurrences.data.map((o) => (
                <tr key={o.id}>
                  <td>{exact(o.received_at)}</td>
                  <td>{o.source ?? "—"}</td>
                </tr>
              ))}
              <tr>
                <td>{exact(report.created_at)}</td>
                <td>{report.source ?? "—"} (first)</td>
              </tr>
            </tbody>
          </table>
        )}
      </section>

      <section className={styles.section} aria-labelledby="raw">
        <h2 id="raw">Raw log</h2>
        <details>
          <summary>Show the log as it was submitted</summary>
          <div className={ui.row}>
            <CopyButton text={JSON.stringify(report.log_data, null, 2)} label="Copy log" />
          </div>
          <pre className={styles.raw} tabIndex={0}>
            {JSON.stringify(report.log_data, null, 2)}
          </pre>
        </details>
      </section>
    </article>
  );
}

function DiagnosisView({ diagnosis, repo }: { diagnosis: Diagnosis; repo: Schemas["RepositoryOut"] | null }) {
  const culpritPath = diagnosis.culprit_file;
  const files = [...diagnosis.relevant_code_files].sort(
    (a, b) => Number(b.file_path === culpritPath) - Number(a.file_path === culpritPath),
  );
  const repoPath = (frame: Frame) =>
    diagnosis.code_mapping.find((m) => m.frame_path === frame.file)?.repo_path ?? null;
  const sha = diagnosis.commit?.sha;
  return (
    <div className={styles.grid}>
      <div>
        <section className={styles.section} aria-labelledby="summary">
          <h2 id="summary">Summary</h2>
          <p>{diagnosis.summary}</p>
          <h2>Root cause</h2>
          <p>{diagnosis.root_cause}</p>
          {diagnosis.error_analysis && diagnosis.error_analysis !== diagnosis.root_cause && (
            <>
              <h2>Analysis</h2>
              <p>{diagnosis.error_analysis}</p>
            </>
          )}
          <h2>Recommendations</h2>
          {diagnosis.recommendations.length ? (
            <ol>
              {diagnosis.recommendations.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ol>
          ) : (
            <p>None.</p>
          )}
        </section>

        <section className={styles.section} aria-labelledby="code">
          <h2 id="code">Code</h2>
          {files.length === 0 ? (
            <Empty>No code was read for this diagnosis{repo ? "" : ": no repository is connected"}.</Empty>
          ) : (
            files.flatMap((f) =>
              f.snippets.map((s) => (
                <CodeBlock
                  key={`${f.file_path}:${s.start_line}`}
                  path={f.file_path}
                  snippet={s}
                  label={`${f.file_path}${f.file_path === culpritPath ? " (culprit)" : ""}, lines ${s.start_line} to ${s.end_line}`}
                />
              )),
            )
          )}
        </section>

        <section className={styles.section} aria-labelledby="stack">
          <h2 id="stack">Stack</h2>
          {diagnosis.frames.length === 0 ? (
            <p>The log had no stack trace.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Function</th>
                  <th scope="col">Location</th>
                  <th scope="col">Kind</th>
                </tr>
              </thead>
              <tbody>
                {diagnosis.frames.map((frame, i) => {
                  const path = repoPath(frame);
                  const href = frame.in_app && path && sha && repo ? fileLink(repo, sha, path, frame.line) : null;
                  const location = `${path ?? frame.file ?? "?"}${frame.line ? `:${frame.line}` : ""}`;
                  return (
                    <tr key={`${i}-${frame.raw}`} className={frame.in_app ? "" : styles.library}>
                      <td>
                        <code>{frame.function ?? "?"}</code>
                      </td>
                      <td>
                        {href ? (
                          <a href={href} target="_blank" rel="noreferrer">
                            <code>{location}</code>
                          </a>
                        ) : (
                          <code>{location}</code>
                        )}
                      </td>
                      <td>{frame.in_app ? "in-app" : "library"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <aside>
        <section className={styles.section} aria-labelledby="suspects">
          <h2 id="suspects">Suspect commits</h2>
          {diagnosis.suspect_commits.length === 0 ? (
            <p>None found.</p>
          ) : (
            <ul className={styles.commits}>
              {diagnosis.suspect_commits.map((c) => (
                <li key={c.sha} className={c.touches_culprit_line ? styles.culpritCommit : ""}>
                  {c.url ? (
                    <a href={c.url} target="_blank" rel="noreferrer">
                      <code>{c.sha.slice(0, 10)}</code>
                    </a>
                  ) : (
                    <code>{c.sha.slice(0, 10)}</code>
                  )}
                  {c.touches_culprit_line && <strong className={styles.tag}>changed the culprit line</strong>}
                  <div>{c.message.split("\n")[0]}</div>
                  <div className={ui.muted}>
                    {c.author ?? "unknown author"}, {exact(c.date)}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className={styles.section} aria-labelledby="how">
          <h2 id="how">How it was diagnosed</h2>
          <dl className={styles.about}>
            <dt>Diagnoser</dt>
            <dd>
              {diagnosis.diagnoser.name}
              {diagnosis.diagnoser.model && ` (${diagnosis.diagnoser.model})`}
              {diagnosis.diagnoser.fallback_from && `, instead of ${diagnosis.diagnoser.fallback_from}, which failed`}
            </dd>
            <dt>Tokens</dt>
            <dd>
              {diagnosis.usage.prompt_tokens} in, {diagnosis.usage.completion_tokens} out
            </dd>
            <dt>Cost</dt>
            <dd>${diagnosis.usage.estimated_cost_usd.toFixed(4)}</dd>
            <dt>Commit</dt>
            <dd>
              {diagnosis.commit ? (
                <>
                  <code>{diagnosis.commit.sha.slice(0, 12)}</code> ({diagnosis.commit.source.replace("_", " ")})
                </>
              ) : (
                "—"
              )}
            </dd>
            <dt>Provider requests</dt>
            <dd>{diagnosis.provider_requests}</dd>
            <dt>Fingerprint</dt>
            <dd>
              <code>{diagnosis.fingerprint.slice(0, 16)}</code>
            </dd>
          </dl>
        </section>
        <section className={styles.section} aria-labelledby="limits">
          <h2 id="limits">Limitations</h2>
          {diagnosis.limitations.length ? (
            <ul>
              {diagnosis.limitations.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          ) : (
            <p>None: the diagnosis had everything it looks for.</p>
          )}
        </section>
      </aside>
    </div>
  );
}
