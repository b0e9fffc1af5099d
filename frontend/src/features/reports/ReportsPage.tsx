import { useState, type SubmitEvent } from "react";
import { Link, useSearchParams } from "react-router";
import type { Schemas } from "../../api/client";
import { useSession } from "../../auth/session";
import { FilterSelect } from "../../components/FilterSelect";
import { Empty, ErrorState, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { when } from "../../lib/format";
import { useCategories, useRepositoryNames } from "./repositoryNames";
import { useReportList, type ReportFilters } from "./queries";
import styles from "./Reports.module.css";
import ui from "../../components/ui.module.css";

const STATUSES: Schemas["ReportStatus"][] = ["pending", "running", "complete", "failed"];

function filtersOf(params: URLSearchParams): ReportFilters {
  const filters: ReportFilters = {};
  const q = params.get("q");
  if (q) filters.q = q;
  const status = params.get("status");
  if (status && (STATUSES as string[]).includes(status)) filters.status = status as Schemas["ReportStatus"];
  const repo = params.get("repository");
  if (repo) filters.repository_id = repo;
  const category = params.get("category");
  if (category) filters.category = category;
  // Dates are whole days in the user's time zone, sent as instants.
  const from = params.get("from");
  if (from) filters.since = new Date(`${from}T00:00:00`).toISOString();
  const to = params.get("to");
  if (to) {
    const end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    filters.until = end.toISOString();
  }
  return filters;
}

export function ReportsPage() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const reports = useReportList(filters);
  const repositories = useRepositoryNames();
  const categories = useCategories(params.get("category"));

  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }
  const items = reports.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = [...params.keys()].length > 0;

  return (
    <>
      <h1>Reports</h1>
      <div className={styles.filters}>
        <SearchBox key={params.get("q") ?? ""} initial={params.get("q") ?? ""} onSearch={(q) => set("q", q)} />
        <FilterSelect label="Status" value={params.get("status") ?? ""} onChange={(v) => set("status", v)} options={STATUSES} />
        <FilterSelect
          label="Repository"
          value={params.get("repository") ?? ""}
          onChange={(v) => set("repository", v)}
          options={[...repositories.entries()]}
        />
        <FilterSelect label="Category" value={params.get("category") ?? ""} onChange={(v) => set("category", v)} options={categories} />
        <label>
          <span>From</span>
          <input type="date" value={params.get("from") ?? ""} onChange={(e) => set("from", e.target.value)} />
        </label>
        <label>
          <span>To</span>
          <input type="date" value={params.get("to") ?? ""} onChange={(e) => set("to", e.target.value)} />
        </label>
        {filtered && (
          <button type="button" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </div>

      {reports.isPending && <Loading label="Loading reports" />}
      {reports.isError && <ErrorState error={reports.error} retry={() => void reports.refetch()} />}
      {reports.isSuccess && items.length === 0 && (
        <Empty>
          {filtered ? (
            "No report matches these filters."
          ) : (
            <>
              No reports yet.
              {session.can("submit") && (
                <>
                  {" "}
                  <Link to="/submit">Submit a log</Link> or send one to <code>POST /api/v1/logs/diagnose</code>.
                </>
              )}
            </>
          )}
        </Empty>
      )}
      {items.length > 0 && (
        <table className={styles.table}>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Report</th>
              <th scope="col">Category</th>
              <th scope="col">Culprit</th>
              <th scope="col">Repository</th>
              <th scope="col">Occurrences</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <Link to={`/reports/${r.id}`}>{r.title ?? (r.status === "failed" ? "Diagnosis failed" : "Being diagnosed…")}</Link>
                  {r.error_type && <div className={ui.muted}>{r.error_type}</div>}
                </td>
                <td>{r.category ?? "—"}</td>
                <td>{r.culprit ? <code>{r.culprit}</code> : "—"}</td>
                <td>{r.repo_id ? (repositories.get(r.repo_id) ?? "(deleted)") : "—"}</td>
                <td>{r.occurrence_count}</td>
                <td title={r.created_at}>{when(r.created_at)}</td>
                <td title={r.last_seen_at ?? ""}>{when(r.last_seen_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {reports.hasNextPage && (
        <p>
          <button type="button" onClick={() => void reports.fetchNextPage()} disabled={reports.isFetchingNextPage}>
            {reports.isFetchingNextPage ? "Loading…" : "Older reports"}
          </button>
        </p>
      )}
    </>
  );
}

/** The search field: typed freely, applied on Enter or the button (one query per search). */
function SearchBox({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(initial);
  function submit(event: SubmitEvent) {
    event.preventDefault();
    onSearch(text.trim());
  }
  return (
    <form role="search" className={styles.searchForm} onSubmit={submit}>
      <label className={styles.search}>
        <span>Search</span>
        <input
          type="search"
          value={text}
          placeholder="title, error message or file"
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}
