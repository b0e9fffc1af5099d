import styles from "./ui.module.css";

export type Status = "pending" | "running" | "complete" | "failed";

export function StatusBadge({ status }: { status: Status }) {
  return <span className={`${styles.badge} ${styles[status] ?? ""}`}>{status}</span>;
}
