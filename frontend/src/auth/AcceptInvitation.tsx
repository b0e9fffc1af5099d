import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, problemText, unwrap } from "../api/client";
import styles from "../components/ui.module.css";

export const ACCEPT_PATH = "/invitations/accept";

/** The page an invitation link opens: join the organisation as the signed-in person. */
export function AcceptInvitation({ onJoined }: { onJoined: (orgId: string) => void }) {
  const client = useQueryClient();
  const token = new URLSearchParams(window.location.search).get("token") ?? "";
  const [error, setError] = useState<string | null>(token ? null : "This link has no invitation token.");
  const [busy, setBusy] = useState(false);

  async function accept() {
    setBusy(true);
    setError(null);
    try {
      const joined = unwrap(await api.POST("/api/v1/invitation-acceptances", { body: { token } }));
      await client.invalidateQueries({ queryKey: ["auth"] });
      // Off the invitation's address (the router, created earlier, redirects home itself).
      window.history.replaceState(null, "", "/");
      onJoined(joined.org_id);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <h1>Join an organisation</h1>
      <p>You were invited to an organisation on Log Dawg. Accept to join it with the role you were given.</p>
      {error && (
        <p role="alert" className={styles.error}>
          {error}
        </p>
      )}
      <button type="button" className={styles.primary} disabled={busy || !token} onClick={() => void accept()}>
        Accept invitation
      </button>
    </main>
  );
}
