import { useState, type SubmitEvent } from "react";
import { useSearchParams } from "react-router";
import type { Schemas } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { exact } from "../../lib/format";
import {
  repositoryName,
  useDeleteRepository,
  useRegister,
  useReplaceToken,
  useRepositoryList,
  useTestConnection,
} from "./queries";
import { AccessBadge, UnreachableBanner } from "./access";
import { ConnectAzureDevOps } from "./ConnectAzureDevOps";
import { ConnectGitHub } from "./ConnectGitHub";
import ui from "../../components/ui.module.css";

type Provider = Schemas["Provider"];

export function RepositoriesPage() {
  const session = useSession();
  const repositories = useRepositoryList();
  const canManage = session.can("manageRepositories");
  const [params] = useSearchParams();
  const unreachable = repositories.data?.filter((r) => r.unreachable_reason) ?? [];
  return (
    <>
      <h1>Repositories</h1>
      <p className={ui.muted}>
        A diagnosis reads the code of the repository a log comes from, at the right commit, through the
        provider's API. Tokens are write-only: they are sealed at rest and never shown again.
      </p>
      {unreachable.length > 0 && (
        <div className={ui.errorBox} role="alert">
          <p>
            {unreachable.length === 1 ? "1 repository" : `${unreachable.length} repositories`} can no longer be read:{" "}
            {unreachable.map(label).join(", ")}. Diagnoses of their logs say so until access is restored — see below.
          </p>
        </div>
      )}
      {repositories.isPending && <Loading label="Loading repositories" />}
      {repositories.isError && <ErrorState error={repositories.error} retry={() => void repositories.refetch()} />}
      {repositories.isSuccess && repositories.data.length === 0 && (
        <Empty>No repository yet.{canManage ? " Register one below." : ""}</Empty>
      )}
      {repositories.isSuccess && repositories.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Repository</th>
              <th scope="col">Provider</th>
              <th scope="col">Branch</th>
              <th scope="col">Access</th>
              <th scope="col">Registered</th>
              {canManage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {repositories.data.map((r) => (
              <RepositoryRow key={r.id} repo={r} canManage={canManage} />
            ))}
          </tbody>
        </table>
      )}
      {canManage && <ConnectGitHub opened={params.get("connected")} />}
      {canManage && <ConnectAzureDevOps />}
      {canManage && <RegisterForm localAllowed={session.config.mode === "single_tenant"} />}
    </>
  );
}

function label(r: Schemas["RepositoryOut"]): string {
  if (r.provider === "local") return `${r.name} (${r.base_url ?? ""})`;
  return repositoryName(r);
}

function RepositoryRow({ repo, canManage }: { repo: Schemas["RepositoryOut"]; canManage: boolean }) {
  const test = useTestConnection();
  const replace = useReplaceToken();
  const remove = useDeleteRepository();
  const [token, setToken] = useState("");
  const [replacing, setReplacing] = useState(false);
  const name = label(repo);
  return (
    <tr>
      <td>
        <strong>{name}</strong>
        <UnreachableBanner repo={repo} />
        {test.data && (
          <p role="status" className={test.data.ok ? "" : ui.error}>
            {test.data.ok ? "✓ " : "✗ "}
            {test.data.detail}
          </p>
        )}
        {(test.error ?? replace.error ?? remove.error) && <ErrorState error={test.error ?? replace.error ?? remove.error} />}
        {replace.isSuccess && !replacing && <p role="status">Token replaced.</p>}
      </td>
      <td>{repo.provider}</td>
      <td>{repo.default_branch}</td>
      <td>
        <AccessBadge repo={repo} />
      </td>
      <td>{exact(repo.created_at)}</td>
      {canManage && (
        <td>
          <div className={ui.row}>
            <button type="button" disabled={test.isPending} onClick={() => test.mutate(repo.id)}>
              {test.isPending ? "Testing…" : "Test connection"}
            </button>
            {repo.provider !== "local" && repo.auth_kind === "token" && !replacing && (
              <button type="button" onClick={() => setReplacing(true)}>
                Replace token
              </button>
            )}
            <ConfirmButton confirmLabel={`Delete ${repo.name}`} onConfirm={() => remove.mutate(repo.id)}>
              Delete
            </ConfirmButton>
          </div>
          {replacing && (
            <form
              className={ui.row}
              onSubmit={(e) => {
                e.preventDefault();
                replace.mutate(
                  { id: repo.id, token },
                  {
                    onSuccess: () => {
                      setToken("");
                      setReplacing(false);
                    },
                  },
                );
              }}
            >
              <label>
                New token for {name}{" "}
                <input type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} />
              </label>
              <button type="submit" className={ui.primary} disabled={replace.isPending}>
                Save token
              </button>
              <button type="button" onClick={() => setReplacing(false)}>
                Cancel
              </button>
            </form>
          )}
        </td>
      )}
    </tr>
  );
}

function RegisterForm({ localAllowed }: { localAllowed: boolean }) {
  const register = useRegister();
  const [provider, setProvider] = useState<Provider>("github");
  const [form, setForm] = useState({ owner: "", project: "", name: "", default_branch: "main", base_url: "", token: "" });
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [field]: e.target.value });

  function submit(event: SubmitEvent) {
    event.preventDefault();
    const body: Schemas["RepositoryCreate"] = {
      provider,
      name: form.name,
      default_branch: form.default_branch || "main",
    };
    if (provider !== "local") body.owner = form.owner;
    if (provider === "azure_devops") body.project = form.project;
    if (form.base_url) body.base_url = form.base_url;
    if (provider !== "local" && form.token) body.token = form.token;
    register.mutate(body, {
      onSuccess: () => setForm({ owner: "", project: "", name: "", default_branch: "main", base_url: "", token: "" }),
    });
  }

  return (
    <section aria-labelledby="register">
      <h2 id="register">Register a repository with a token</h2>
      <form className={ui.form} onSubmit={submit}>
        <label>
          Provider
          <select value={provider} onChange={(e) => setProvider(e.target.value as Provider)}>
            <option value="github">GitHub</option>
            <option value="azure_devops">Azure DevOps</option>
            {localAllowed && <option value="local">Local checkout</option>}
          </select>
        </label>
        {provider !== "local" && (
          <label>
            {provider === "github" ? "Owner (user or organisation)" : "Organisation"}
            <input required value={form.owner} onChange={set("owner")} />
          </label>
        )}
        {provider === "azure_devops" && (
          <label>
            Project
            <input required value={form.project} onChange={set("project")} />
          </label>
        )}
        <label>
          Repository name
          <input required value={form.name} onChange={set("name")} />
        </label>
        <label>
          Default branch
          <input value={form.default_branch} onChange={set("default_branch")} />
        </label>
        <label>
          {provider === "local" ? "Path of the checkout" : "Server URL (GitHub Enterprise or Azure DevOps Server; optional)"}
          <input
            required={provider === "local"}
            value={form.base_url}
            placeholder={provider === "local" ? "/home/me/src/shop" : ""}
            onChange={set("base_url")}
          />
        </label>
        {provider !== "local" && (
          <label>
            Read-only token (write-only: it is never shown again)
            <input type="password" autoComplete="off" value={form.token} onChange={set("token")} />
          </label>
        )}
        {register.isError && <ErrorState error={register.error} />}
        {register.isSuccess && <p role="status">Registered {label(register.data)}.</p>}
        <div>
          <button type="submit" className={ui.primary} disabled={register.isPending}>
            Register repository
          </button>
        </div>
      </form>
    </section>
  );
}
