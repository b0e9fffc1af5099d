import { useState, type SubmitEvent } from "react";
import { api, problemText, unwrap } from "../api/client";
import styles from "../components/ui.module.css";

/** The local development issuer's "sign in as": any e-mail and name, no password. */
export function DevSignInForm({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = unwrap(await api.POST("/dev-issuer/token", { body: { email, name } }));
      onSignedIn(answer.access_token);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <h1>Sign in</h1>
      <p>This platform uses the local development issuer: sign in as anyone.</p>
      <form className={styles.form} onSubmit={(e) => void submit(e)}>
        <label>
          E-mail
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        {error && (
          <p role="alert" className={styles.error}>
            {error}
          </p>
        )}
        <button type="submit" className={styles.primary} disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
