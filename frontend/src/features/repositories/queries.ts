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
