import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export const repositoryKeys = {
  all: ["repositories"] as const,
  list: () => [...repositoryKeys.all, "list"] as const,
};

/** How a repository is named in lists and pickers: owner/project/name, as its provider does. */
export function repositoryName(r: Pick<Schemas["RepositoryOut"], "owner" | "project" | "name">): string {
  return [r.owner, r.project, r.name].filter(Boolean).join("/");
}

export function useRepositoryList() {
  return useQuery({
    queryKey: repositoryKeys.list(),
    queryFn: async () => unwrap(await api.GET("/api/v1/repositories")),
  });
}

export function useRegister() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["RepositoryCreate"]) =>
      unwrap(await api.POST("/api/v1/repositories", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: repositoryKeys.all }),
  });
}

export function useReplaceToken() {
  return useMutation({
    mutationFn: async ({ id, token }: { id: string; token: string }) =>
      unwrap(await api.PUT("/api/v1/repositories/{repo_id}/token", { params: { path: { repo_id: id } }, body: { token } })),
  });
}

export function useTestConnection() {
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST("/api/v1/repositories/{repo_id}/test", { params: { path: { repo_id: id } } })),
  });
}

export function useDeleteRepository() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/api/v1/repositories/{repo_id}", { params: { path: { repo_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: repositoryKeys.all }),
  });
}

// --- the platform's GitHub App: install, requests awaiting an owner, registering in one step

export const githubAppKeys = {
  all: ["github-app"] as const,
  status: () => [...githubAppKeys.all, "status"] as const,
  installations: () => [...githubAppKeys.all, "installations"] as const,
  requests: () => [...githubAppKeys.all, "requests"] as const,
  granted: (installation: string) => [...githubAppKeys.all, "granted", installation] as const,
};

export function useGitHubAppStatus() {
  return useQuery({
    queryKey: githubAppKeys.status(),
    queryFn: async () => unwrap(await api.GET("/api/v1/github-app")),
    staleTime: Infinity,
  });
}

export function useInstallations(enabled: boolean) {
  return useQuery({
    queryKey: githubAppKeys.installations(),
    queryFn: async () => unwrap(await api.GET("/api/v1/github-app/installations")),
    enabled,
  });
}

/** Install requests; asked again every few seconds while one waits for a GitHub owner. */
export function useInstallRequests(enabled: boolean) {
  return useQuery({
    queryKey: githubAppKeys.requests(),
    queryFn: async () => unwrap(await api.GET("/api/v1/github-app/requests")),
    enabled,
    refetchInterval: (query) => (query.state.data?.some((r) => r.waiting) ? 5_000 : false),
  });
}

/** Start the install: the API's one-time link to GitHub's install page, where the browser goes. */
export function useStartInstall() {
  return useMutation({
    mutationFn: async (account: string) =>
      unwrap(await api.POST("/api/v1/github-app/install", { body: account ? { account } : {} })),
    onSuccess: (started) => window.location.assign(started.install_url),
  });
}

export function useCompleteInstall() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["InstallCallback"]) =>
      unwrap(await api.POST("/api/v1/github-app/callback", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: githubAppKeys.all }),
  });
}

export function useRecordRequest() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["InstallRequested"]) =>
      unwrap(await api.POST("/api/v1/github-app/requests", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: githubAppKeys.requests() }),
  });
}

export function useGranted(installation: string) {
  return useQuery({
    queryKey: githubAppKeys.granted(installation),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/github-app/installations/{installation_uuid}/repositories", {
          params: { path: { installation_uuid: installation } },
        }),
      ),
  });
}

export function useRegisterGranted() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ installation, repositories }: { installation: string; repositories: Schemas["ChosenRepository"][] }) =>
      unwrap(
        await api.POST("/api/v1/github-app/installations/{installation_uuid}/repositories", {
          params: { path: { installation_uuid: installation } },
          body: { repositories },
        }),
      ),
    onSuccess: (_, { installation }) => {
      void client.invalidateQueries({ queryKey: repositoryKeys.all });
      void client.invalidateQueries({ queryKey: githubAppKeys.granted(installation) });
    },
  });
}
