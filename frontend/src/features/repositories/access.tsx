import type { Schemas } from "../../api/client";
import { exact } from "../../lib/format";
import ui from "../../components/ui.module.css";
import styles from "./Repositories.module.css";

type Repository = Schemas["RepositoryOut"];

/** How a repository is read, in a person's words. */
export function accessLabel(r: Repository): string {
  if (r.provider === "local") return "Local checkout";
  switch (r.auth_kind) {
    case "github_app":
      return "GitHub App installation";
    case "azure_identity":
      return "Platform identity";
    case "azure_service_principal":
      return "Your service principal";
    default:
      return r.has_credential ? "Personal token" : "No token (public)";
  }
}

const TITLES: Record<string, string> = {
  "Local checkout": "Read from a checkout on this machine with git; nothing is stored.",
  "GitHub App installation": "Read with short-lived installation tokens of the platform's GitHub App; nothing is stored.",
  "Platform identity": "Read with the platform's own Entra ID identity, added to your Azure DevOps organisation; nothing is stored.",
  "Your service principal": "Read with your Entra ID service principal; its secret or certificate is sealed and never shown.",
  "Personal token": "Read with the token you pasted; it is sealed and never shown.",
  "No token (public)": "Read without a token: works for public repositories only.",
};

export function AccessBadge({ repo }: { repo: Repository }) {
  const label = accessLabel(repo);
  return (
    <span className={`${ui.badge} ${styles[`kind_${repo.provider === "local" ? "local" : repo.auth_kind ?? "token"}`] ?? ""}`} title={TITLES[label]}>
      {label}
    </span>
  );
}

/** What a person does about access that is gone, by how the repository is read. */
export function unreachableAdvice(r: Repository): string {
  switch (r.auth_kind) {
    case "github_app":
      return "Install the GitHub App again (Connect GitHub below) or add the repository back to the installation's repositories on GitHub; then register it from the installation again.";
    case "azure_identity":
      return "Ask your Azure DevOps administrator to add the platform's identity back to the project (Basic, Readers), then test the connection.";
    case "azure_service_principal":
      return "Check that your service principal is still a member of the project and its secret or certificate is current; register the repository again with a new one.";
    default:
      return "Replace the token with one that can read the repository, then test the connection.";
  }
}

export function UnreachableBanner({ repo }: { repo: Repository }) {
  if (!repo.unreachable_reason) return null;
  return (
    <div className={ui.errorBox} role="alert">
      <p>
        <strong>Unreachable</strong>
        {repo.unreachable_at ? ` since ${exact(repo.unreachable_at)}` : ""}: {repo.unreachable_reason}.
      </p>
      <p>What to do: {unreachableAdvice(repo)}</p>
    </div>
  );
}
