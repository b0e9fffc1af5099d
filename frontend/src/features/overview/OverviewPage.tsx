import { Link } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { Empty, ErrorState, Loading } from "../../components/States";
import { exact, percent, when } from "../../lib/format";
import styles from "./Overview.module.css";

export const overviewKeys = { all: ["overview"] as const, stats: () => [...overviewKeys.all, "stats"] as const };

export function OverviewPage() {
  const session = useSession();
  const stats = useQuery({
    queryKey: overviewKeys.stats(),
    queryFn: async () => unwrap(await api.GET("/api/v1/stats")),
    refetchInterval: 15_000,
  });
  if (stats.isPending) return <Loading label="Loading the overview" />;
  if (stats.isError) return <ErrorState error={stats.error} retry={() => void stats.refetch()} />;
  const s = stats.data;
  const h = s.health;
  return (
    <>
      <h1>Overview</h1>
      <section aria-label="Counts" className={styles.tiles}>
        <Tile label="Today" value={s.today} />
        <Tile label="Last 7 days" value={s.this_week} />
        <Tile label="All reports" value={s.total} />
        <Tile label="Average confidence" value={percent(s.average_confidence)} />
      </section>
      <div className={styles.columns}>
        <section aria-labelledby="by-status">
          <h2 id="by-status">By status</h2>
          <Bars counts={s.by_status} link={(k) => `/reports?status=${k}`} />
        </section>
        <section aria-labelledby="by-category">
          <h2 id="by-category">By category</h2>
          {Object.keys(s.by_category).length === 0 ? (
            <Empty>No diagnosed reports yet.</Empty>
          ) : (
            <Bars counts={s.by_category} link={(k) => `/reports?category=${encodeURIComponent(k)}`} />
          )}
        </section>
      </div>
      <section aria-labelledby="noisiest">
        <h2 id="noisiest">Noisiest errors</h2>
        {s.noisiest.length === 0 ? (
          <Empty>
            Nothing yet.
            {session.can("submit") && (
              <>
                {" "}
                <Link to="/submit">Submit a log</Link> to see the platform at work.
              </>
            )}
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Error</th>
                <th scope="col">Occurrences</th>
                <th scope="col">Reports</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {s.noisiest.map((n) => (
                <tr key={n.fingerprint}>
                  <td>
                    <Link to={`/reports/${n.latest_report_id}`}>{n.title ?? n.fingerprint.slice(0, 16)}</Link>
                  </td>
                  <td>{n.occurrences}</td>
                  <td>{n.reports}</td>
                  <td>{when(n.last_seen_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="health">
        <h2 id="health">System health</h2>
        <dl className={styles.health}>
          <dt>API</dt>
          <dd>{h.api_ready ? "ready" : "not ready: the schema is not at this build's revision"}</dd>
          <dt>Schema revision</dt>
          <dd>
            <code>{h.schema_revision ?? "none"}</code> (this build: <code>{h.schema_head}</code>)
          </dd>
          <dt>Queue depth</dt>
          <dd>{h.queue_depth} waiting</dd>
          <dt>Oldest pending job</dt>
          <dd title={exact(h.oldest_pending_job_at)}>{h.oldest_pending_job_at ? when(h.oldest_pending_job_at) : "none"}</dd>
        </dl>
      </section>
    </>
  );
}

function Tile({ label, value }: { label: string; value: number | string }) {
  return (
    <div className={styles.tile}>
      <span className={styles.tileValue}>{value}</span>
      <span>{label}</span>
    </div>
  );
}

function Bars({ counts, link }: { counts: Record<string, number>; link: (key: string) => string }) {
  const max = Math.max(1, ...Object.values(counts));
  return (
    <ul className={styles.bars}>
      {Object.entries(counts).map(([key, n]) => (
        <li key={key}>
          <Link to={link(key)}>{key}</Link>
          <span className={styles.bar} style={{ width: `${(n / max) * 100}%` }} aria-hidden="true" />
          <span>{n}</span>
        </li>
      ))}
    </ul>
  );
}
