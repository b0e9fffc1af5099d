import { useState, type SubmitEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, problemText, unwrap } from "../api/client";
import styles from "../components/ui.module.css";

/** A signed-in person in no organisation yet: create one (and own it), or wait for an
 * invitation. */
export function CreateOrganisation({ onCreated, signOut }: { onCreated: (id: string) => void; signOut: (() => void) | null }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const org = unwrap(await api.POST("/api/v1/orgs", { body: { name } }));
      await client.invalidateQueries({ queryKey: ["auth"] });
      onCreated(org.id);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <h1>Welcome to Log Dawg</h1>
      <p>You are signed in, but not a member of any organisation yet. Ask an admin to invite you, or create one.</p>
      <form className={styles.form} onSubmit={(e) => void submit(e)}>
        <label>
          Organisation name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        {error && (
          <p role="alert" className={styles.error}>
            {error}
          </p>
        )}
        <div className={styles.row}>
          <button type="submit" className={styles.primary} disabled={busy}>
            Create organisation
          </button>
          {signOut && (
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
