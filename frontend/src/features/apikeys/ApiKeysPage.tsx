import { useState, type SubmitEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { ApiKeyCreated } from "../../api/contract";
import { ConfirmButton } from "../../components/ConfirmButton";
import { CopyButton } from "../../components/CopyButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { exact, when } from "../../lib/format";
import ui from "../../components/ui.module.css";

export const apiKeyKeys = {
  all: ["api-keys"] as const,
  list: () => [...apiKeyKeys.all, "list"] as const,
};

type Scope = "ingest" | "read";

export function ApiKeysPage() {
  const client = useQueryClient();
  const keys = useQuery({
    queryKey: apiKeyKeys.list(),
    queryFn: async () => unwrap(await api.GET("/api/v1/api-keys")),
  });
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["ingest"]);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/api-keys", { body: { name, scopes } })),
    onSuccess: (key) => {
      setCreated(key);
      setName("");
      void client.invalidateQueries({ queryKey: apiKeyKeys.all });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: apiKeyKeys.all }),
  });

  function toggle(scope: Scope) {
    setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope]);
  }
  function submit(event: SubmitEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <h1>API keys</h1>
      <p className={ui.muted}>
        Log sources send logs with a key: <code>Authorization: Bearer ldk_…</code> or <code>X-API-Key</code>. A key is
        shown once, when it is created.
      </p>
      {created && (
        <div className={ui.card} role="status">
          <p>
            <strong>Key “{created.name}” created.</strong> Copy it now: it will not be shown again.
          </p>
          <p className={ui.secret} aria-label="New API key">
            {created.key}
          </p>
          <div className={ui.row}>
            <CopyButton text={created.key} label="Copy key" />
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <section aria-labelledby="new-key">
        <h2 id="new-key">Create a key</h2>
        <form className={ui.form} onSubmit={submit}>
          <label>
            Name
            <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="production app" />
          </label>
          <fieldset>
            <legend>Scopes</legend>
            <label className={ui.check}>
              <input type="checkbox" checked={scopes.includes("ingest")} onChange={() => toggle("ingest")} /> ingest (submit logs)
            </label>{" "}
            <label className={ui.check}>
              <input type="checkbox" checked={scopes.includes("read")} onChange={() => toggle("read")} /> read (reports and status)
            </label>
          </fieldset>
          {create.isError && <ErrorState error={create.error} />}
          <div>
            <button type="submit" className={ui.primary} disabled={create.isPending || scopes.length === 0}>
              Create key
            </button>
          </div>
        </form>
      </section>
      <h2>Keys</h2>
      {revoke.isError && <ErrorState error={revoke.error} />}
      {keys.isPending && <Loading label="Loading keys" />}
      {keys.isError && <ErrorState error={keys.error} retry={() => void keys.refetch()} />}
      {keys.isSuccess && keys.data.length === 0 && <Empty>No API keys yet.</Empty>}
      {keys.isSuccess && keys.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.scopes.join(", ")}</td>
                <td>{exact(k.created_at)}</td>
                <td>{k.last_used_at ? when(k.last_used_at) : "never"}</td>
                <td>
                  {k.revoked_at ? (
                    `revoked ${when(k.revoked_at)}`
                  ) : (
                    <ConfirmButton confirmLabel={`Revoke ${k.name}`} onConfirm={() => revoke.mutate(k.id)}>
                      Revoke
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
