import { useEffect, useRef, useState, type SubmitEvent } from "react";
import type { Schemas } from "../../api/client";
import { ErrorState, Loading } from "../../components/States";
import { exact } from "../../lib/format";
import {
  useGitHubAppStatus,
  useGranted,
  useInstallations,
  useInstallRequests,
  useRegisterGranted,
  useStartInstall,
} from "./queries";
import ui from "../../components/ui.module.css";
import styles from "./Repositories.module.css";

/**
 * Connect GitHub through the platform's GitHub App: start the install (GitHub sends the browser
 * back to /github/installed), wait for an organisation owner when GitHub only recorded a
 * request, and register what an installation grants in one step.
 */
export function ConnectGitHub({ opened }: { opened: string | null }) {
  const status = useGitHubAppStatus();
  const configured = status.data?.configured === true;
  const installations = useInstallations(configured);
  const requests = useInstallRequests(configured);
  const start = useStartInstall();
  const [account, setAccount] = useState("");
  const waitingCount = (requests.data ?? []).filter((r) => r.waiting).length;
  const lastWaiting = useRef(waitingCount);
  const refetchInstallations = installations.refetch;
  useEffect(() => {
    // A request stopped waiting: an owner approved it, and it became an installation.
    if (waitingCount < lastWaiting.current) void refetchInstallations();
    lastWaiting.current = waitingCount;
  }, [waitingCount, refetchInstallations]);

  if (status.isPending) return null;
  if (status.isError) return <ErrorState error={status.error} />;
  if (!configured) {
    return (
      <section aria-labelledby="connect-github" className={styles.section}>
        <h2 id="connect-github">Connect GitHub</h2>
        <p className={ui.muted}>
          This platform has no GitHub App configured (LOGDAWG_GITHUB_APP_ID and the other LOGDAWG_GITHUB_APP_* settings):
          register GitHub repositories with a token below.
        </p>
      </section>
    );
  }

  function submit(event: SubmitEvent) {
    event.preventDefault();
    start.mutate(account.trim());
  }

  const waiting = (requests.data ?? []).filter((r) => r.waiting);
  return (
    <section aria-labelledby="connect-github" className={styles.section}>
      <h2 id="connect-github">Connect GitHub</h2>
      <p className={ui.muted}>
        Install the platform's GitHub App on your GitHub organisation or account, then choose which of the repositories it
        grants to register. No personal token is needed: the platform reads with short-lived installation tokens it mints
        itself.
      </p>
      {waiting.map((r) => (
        <WaitingRequest
          key={r.id}
          request={r}
          retrying={start.isPending}
          onRetry={() => start.mutate(r.account ?? "")}
          onCheck={() => {
            void requests.refetch();
            void installations.refetch();
          }}
        />
      ))}
      <form className={ui.form} onSubmit={submit}>
        <label>
          GitHub organisation or user to install on
          <input
            required
            value={account}
            pattern="[A-Za-z0-9](?:[A-Za-z0-9\-]{0,38})"
            placeholder="acme"
            autoComplete="off"
            onChange={(e) => setAccount(e.target.value)}
          />
        </label>
        {start.isError && <ErrorState error={start.error} />}
        <div>
          <button type="submit" className={ui.primary} disabled={start.isPending}>
            {start.isPending ? "Going to GitHub…" : "Connect GitHub"}
          </button>
        </div>
      </form>
      {installations.isError && <ErrorState error={installations.error} retry={() => void installations.refetch()} />}
      {installations.isSuccess && installations.data.length > 0 && (
        <>
          <h3>Installations</h3>
          <ul className={styles.installations}>
            {installations.data.map((i) => (
              <Installation key={i.id} installation={i} opened={opened === i.id} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function WaitingRequest({
  request,
  retrying,
  onRetry,
  onCheck,
}: {
  request: Schemas["InstallRequestOut"];
  retrying: boolean;
  onRetry: () => void;
  onCheck: () => void;
}) {
  return (
    <div className={styles.waiting} role="status">
      <p>
        <strong>{request.detail}</strong>
      </p>
      <p>
        Asked {exact(request.requested_at)}
        {request.requester_login ? ` by ${request.requester_login} on GitHub` : ""}. GitHub has emailed the
        organisation's owners; this page checks every few seconds.
      </p>
      <div className={ui.row}>
        <button type="button" onClick={onCheck}>
          Check again
        </button>
        <button type="button" onClick={onRetry} disabled={retrying}>
          Connect GitHub again
        </button>
      </div>
    </div>
  );
}

function Installation({ installation, opened }: { installation: Schemas["InstallationOut"]; opened: boolean }) {
  const [open, setOpen] = useState(opened);
  const count = installation.repositories.length;
  return (
    <li className={ui.card}>
      <div className={ui.row}>
        <strong>{installation.account_login}</strong>
        <span className={ui.muted}>
          {installation.account_type || "account"} · {count} {count === 1 ? "repository" : "repositories"} granted · installed{" "}
          {exact(installation.created_at)}
        </span>
        {installation.uninstalled ? (
          <span className={`${ui.badge} ${ui.failed}`}>uninstalled</span>
        ) : (
          <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "Hide repositories" : `Choose repositories of ${installation.account_login}`}
          </button>
        )}
      </div>
      {installation.uninstalled && (
        <p className={ui.error}>
          The app was uninstalled from {installation.account_login}: its repositories can no longer be read. Connect GitHub
          again to install it.
        </p>
      )}
      {open && !installation.uninstalled && <GrantedPicker installation={installation} />}
    </li>
  );
}

/** The repositories an installation grants, with checkboxes; the chosen ones are registered in one step. */
export function GrantedPicker({ installation }: { installation: Schemas["InstallationOut"] }) {
  const granted = useGranted(installation.id);
  const register = useRegisterGranted();
  const [chosen, setChosen] = useState<Set<string>>(new Set());

  if (granted.isPending) return <Loading label={`Asking GitHub what ${installation.account_login} grants`} />;
  if (granted.isError) return <ErrorState error={granted.error} retry={() => void granted.refetch()} />;

  const open = granted.data.filter((g) => !g.registered);
  function toggle(name: string) {
    const next = new Set(chosen);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setChosen(next);
  }
  function submit(event: SubmitEvent) {
    event.preventDefault();
    const repositories = granted.data
      ?.filter((g) => chosen.has(g.full_name))
      .map((g) => ({ full_name: g.full_name, default_branch: g.default_branch }));
    if (!repositories?.length) return;
    register.mutate({ installation: installation.id, repositories }, { onSuccess: () => setChosen(new Set()) });
  }

  if (granted.data.length === 0) {
    return <p className={ui.muted}>The installation grants no repository yet: add some to it on GitHub.</p>;
  }
  return (
    <form onSubmit={submit}>
      <fieldset className={styles.picker}>
        <legend>Repositories {installation.account_login} grants</legend>
        {granted.data.map((g) => (
          <label key={g.full_name}>
            <input
              type="checkbox"
              checked={g.registered || chosen.has(g.full_name)}
              disabled={g.registered}
              onChange={() => toggle(g.full_name)}
            />
            {g.full_name}
            <span className={ui.muted}>
              {g.private ? "private · " : ""}
              {g.default_branch}
              {g.registered ? " · registered" : ""}
            </span>
          </label>
        ))}
      </fieldset>
      {register.isError && <ErrorState error={register.error} />}
      {register.isSuccess && (
        <p role="status">Registered {register.data.map((r) => `${r.owner}/${r.name}`).join(", ")}: read through the GitHub App.</p>
      )}
      {open.length > 0 && (
        <div className={ui.row}>
          <button type="submit" className={ui.primary} disabled={chosen.size === 0 || register.isPending}>
            Register {chosen.size || ""} selected
          </button>
          <button type="button" onClick={() => setChosen(new Set(open.map((g) => g.full_name)))}>
            Select all
          </button>
        </div>
      )}
    </form>
  );
}
