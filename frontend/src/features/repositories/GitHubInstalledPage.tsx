import { useEffect, useRef } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { ErrorState, Loading } from "../../components/States";
import { useCompleteInstall, useRecordRequest } from "./queries";

/**
 * Where GitHub sends the browser back after its install page (the app's Callback URL,
 * /github/installed): `installation_id`, `setup_action`, `state` and `code`. The page hands
 * them to the API once, then goes on to the Repositories page with the installation's
 * repositories open (or the request waiting for an owner). The one-time state is never sent
 * twice: a reload of this page after success lands on Repositories.
 */
export function GitHubInstalledPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const complete = useCompleteInstall();
  const request = useRecordRequest();
  const sent = useRef(false);

  const state = params.get("state") ?? "";
  const code = params.get("code") || null;
  const setupAction = params.get("setup_action");
  const installationId = Number(params.get("installation_id") ?? "");
  const requested = setupAction === "request";
  const usable = state.length >= 16 && (requested || (Number.isSafeInteger(installationId) && installationId > 0));

  useEffect(() => {
    if (sent.current || !usable) return;
    sent.current = true; // React may run an effect twice in development; a state is one-time.
    if (requested) {
      request.mutate(
        { state, code, setup_action: "request" },
        { onSuccess: () => void navigate("/repositories?requested=1", { replace: true }) },
      );
    } else {
      complete.mutate(
        { installation_id: installationId, state, code, setup_action: setupAction },
        { onSuccess: (done) => void navigate(`/repositories?connected=${done.id}`, { replace: true }) },
      );
    }
  }, [usable, requested, state, code, setupAction, installationId, request, complete, navigate]);

  const failed = complete.error ?? request.error;
  return (
    <>
      <h1>Connect GitHub</h1>
      {!usable && (
        <p>
          This page is where GitHub sends you back after installing the platform's GitHub App, and this address carries no
          install to complete. <Link to="/repositories">Go to Repositories</Link> and press Connect GitHub.
        </p>
      )}
      {usable && !failed && <Loading label={requested ? "Recording the request" : "Connecting the installation"} />}
      {failed && (
        <>
          <ErrorState error={failed} />
          <p>
            <Link to="/repositories">Back to Repositories</Link> to start again.
          </p>
        </>
      )}
    </>
  );
}
