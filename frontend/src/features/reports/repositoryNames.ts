import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";

export const repositoryNameKeys = {
  all: ["reports", "repository-names"] as const,
  categories: ["reports", "categories"] as const,
};

/** Repository id → a readable name, for the list's column and filter. */
export function useRepositoryNames(): Map<string, string> {
  const query = useQuery({
    queryKey: repositoryNameKeys.all,
    queryFn: async () => unwrap(await api.GET("/api/v1/repositories")),
    staleTime: 60_000,
  });
  return new Map(
    (query.data ?? []).map((r) => [r.id, [r.owner, r.project, r.name].filter(Boolean).join("/")]),
  );
}

/** The categories this organisation's reports have (and the one selected, if any). */
export function useCategories(selected: string | null): string[] {
  const query = useQuery({
    queryKey: repositoryNameKeys.categories,
    queryFn: async () => unwrap(await api.GET("/api/v1/stats")).by_category,
    staleTime: 60_000,
  });
  const names = Object.keys(query.data ?? {});
  if (selected && !names.includes(selected)) names.push(selected);
  return names.sort();
}
