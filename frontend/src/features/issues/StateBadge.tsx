import type { IssueState } from "./queries";
import styles from "./Issues.module.css";

export function StateBadge({ state }: { state: IssueState }) {
  return <span className={`${styles.state} ${styles[state] ?? ""}`}>{state}</span>;
}
