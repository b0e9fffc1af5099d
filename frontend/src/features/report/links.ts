import type { Schemas } from "../../api/client";

type Repository = Schemas["RepositoryOut"];

/** The file at a commit on the repository's provider, at a line; null for local checkouts. */
export function fileLink(repo: Repository, sha: string, path: string, line: number | null): string | null {
  const file = path.split("/").map(encodeURIComponent).join("/");
  const owner = encodeURIComponent(repo.owner);
  const name = encodeURIComponent(repo.name);
  if (repo.provider === "github") {
    // GitHub Enterprise Server's API root is https://HOST/api/v3; its web UI is https://HOST.
    const web = repo.base_url ? repo.base_url.replace(/\/api\/v3\/?$/, "") : "https://github.com";
    return `${web}/${owner}/${name}/blob/${sha}/${file}${line ? `#L${line}` : ""}`;
  }
  if (repo.provider === "azure_devops") {
    const root = repo.base_url ? repo.base_url.replace(/\/$/, "") : `https://dev.azure.com/${owner}`;
    const project = encodeURIComponent(repo.project ?? "");
    const params = new URLSearchParams({ path: `/${path}`, version: `GC${sha}` });
    if (line) {
      params.set("line", String(line));
      params.set("lineEnd", String(line));
      params.set("lineStartColumn", "1");
      params.set("lineEndColumn", "1000");
    }
    return `${root}/${project}/_git/${name}?${params.toString()}`;
  }
  return null;
}
