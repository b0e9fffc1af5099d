import { useState, type ChangeEvent, type SubmitEvent } from "react";
import type { Schemas } from "../../api/client";
import { ErrorState } from "../../components/States";
import { repositoryName, useRegister } from "./queries";
import ui from "../../components/ui.module.css";
import styles from "./Repositories.module.css";

type Mode = "azure_identity" | "azure_service_principal";
type Proof = "secret" | "certificate";

const EMPTY = {
  owner: "",
  project: "",
  name: "",
  default_branch: "main",
  base_url: "",
  tenant_id: "",
  client_id: "",
  client_secret: "",
  certificate: "",
  certificate_password: "",
};

function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : "");
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsText(file);
  });
}

/**
 * Register an Azure DevOps repository read with an Entra ID token instead of a PAT: the
 * platform's own identity (nothing stored), or the customer's service principal with a client
 * secret or a certificate (sealed, never shown again).
 */
export function ConnectAzureDevOps() {
  const register = useRegister();
  const [mode, setMode] = useState<Mode>("azure_identity");
  const [proof, setProof] = useState<Proof>("secret");
  const [form, setForm] = useState(EMPTY);
  const set = (field: keyof typeof EMPTY) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value });

  async function load(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (file) setForm({ ...form, certificate: await readText(file) });
  }

  function submit(event: SubmitEvent) {
    event.preventDefault();
    const body: Schemas["RepositoryCreate"] = {
      provider: "azure_devops",
      owner: form.owner,
      project: form.project,
      name: form.name,
      default_branch: form.default_branch || "main",
      auth: mode,
    };
    if (form.base_url) body.base_url = form.base_url;
    if (mode === "azure_service_principal") {
      body.service_principal = {
        tenant_id: form.tenant_id.trim(),
        client_id: form.client_id.trim(),
        ...(proof === "secret"
          ? { client_secret: form.client_secret }
          : {
              certificate: form.certificate,
              ...(form.certificate_password ? { certificate_password: form.certificate_password } : {}),
            }),
      };
    }
    register.mutate(body, { onSuccess: () => setForm(EMPTY) });
  }

  return (
    <section aria-labelledby="connect-ado" className={styles.section}>
      <h2 id="connect-ado">Connect Azure DevOps without a PAT</h2>
      <p className={ui.muted}>
        Read an Azure DevOps repository with an Entra ID token: add the platform's identity, or your own service principal, to
        the project as a Reader (Basic access) first — the README's "Connect Azure DevOps without a PAT" shows the clicks.
      </p>
      <form className={ui.form} onSubmit={submit}>
        <label>
          Azure DevOps organisation
          <input required value={form.owner} placeholder="contoso" onChange={set("owner")} />
        </label>
        <label>
          Azure DevOps project
          <input required value={form.project} onChange={set("project")} />
        </label>
        <label>
          Azure DevOps repository
          <input required value={form.name} onChange={set("name")} />
        </label>
        <label>
          Branch
          <input value={form.default_branch} onChange={set("default_branch")} />
        </label>
        <label>
          Azure DevOps Server collection URL (optional)
          <input value={form.base_url} placeholder="https://HOST/tfs/DefaultCollection" onChange={set("base_url")} />
        </label>
        <fieldset>
          <legend>Read as</legend>
          <label className={ui.check}>
            <input type="radio" name="ado-mode" checked={mode === "azure_identity"} onChange={() => setMode("azure_identity")} />
            The platform's identity (nothing stored)
          </label>
          <label className={ui.check}>
            <input
              type="radio"
              name="ado-mode"
              checked={mode === "azure_service_principal"}
              onChange={() => setMode("azure_service_principal")}
            />
            Your own service principal
          </label>
        </fieldset>
        {mode === "azure_service_principal" && (
          <>
            <label>
              Directory (tenant) ID
              <input required value={form.tenant_id} autoComplete="off" onChange={set("tenant_id")} />
            </label>
            <label>
              Application (client) ID
              <input required value={form.client_id} autoComplete="off" onChange={set("client_id")} />
            </label>
            <fieldset>
              <legend>It signs in with</legend>
              <label className={ui.check}>
                <input type="radio" name="ado-proof" checked={proof === "secret"} onChange={() => setProof("secret")} />A
                client secret
              </label>
              <label className={ui.check}>
                <input type="radio" name="ado-proof" checked={proof === "certificate"} onChange={() => setProof("certificate")} />A
                certificate
              </label>
            </fieldset>
            {proof === "secret" ? (
              <label>
                Client secret (write-only: it is never shown again)
                <input type="password" required autoComplete="off" value={form.client_secret} onChange={set("client_secret")} />
              </label>
            ) : (
              <>
                <label>
                  Certificate: one PEM with the private key and the certificate (write-only)
                  <textarea
                    className={styles.pem}
                    required
                    spellCheck={false}
                    autoComplete="off"
                    value={form.certificate}
                    placeholder={"-----BEGIN PRIVATE KEY-----\n…\n-----BEGIN CERTIFICATE-----\n…"}
                    onChange={set("certificate")}
                  />
                </label>
                <label>
                  …or load it from a .pem file
                  <input type="file" accept=".pem,.crt,.key,application/x-pem-file" onChange={(e) => void load(e)} />
                </label>
                <label>
                  Password of the private key (only if it is encrypted)
                  <input type="password" autoComplete="off" value={form.certificate_password} onChange={set("certificate_password")} />
                </label>
              </>
            )}
          </>
        )}
        {register.isError && <ErrorState error={register.error} />}
        {register.isSuccess && <p role="status">Registered {repositoryName(register.data)}.</p>}
        <div>
          <button type="submit" className={ui.primary} disabled={register.isPending}>
            Connect Azure DevOps repository
          </button>
        </div>
      </form>
    </section>
  );
}
