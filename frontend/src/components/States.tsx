import type { ReactNode } from "react";
import { problemText } from "../api/client";
import styles from "./ui.module.css";

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <p className={styles.muted} role="status" aria-live="polite">
      {label}…
    </p>
  );
}

/** A failed call: the problem's `detail`, and a retry when one makes sense. */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div role="alert" className={styles.errorBox}>
      <p>{problemText(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className={styles.empty}>{children}</div>;
}
