import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { repositoryName, useRepositoryList } from "../repositories";

export const categoryKeys = {
  all: ["reports", "categories"] as const,
};

/** Repository id → a readable name, for the list's column and filter (the repositories
 * feature's own list query, so a registered or deleted repository shows at once). */
export function useRepositoryNames(): Map<string, string> {
  const query = useRepositoryList();
  return new Map((query.data ?? []).map((r) => [r.id, repositoryName(r)]));
}

/** The categories this organisation's reports have (and the one selected, if any). */
export function useCategories(selected: string | null): string[] {
  const query = useQuery({
    queryKey: categoryKeys.all,
    queryFn: async () => unwrap(await api.GET("/api/v1/stats")).by_category,
    staleTime: 60_000,
  });
  const names = Object.keys(query.data ?? {});
  if (selected && !names.includes(selected)) names.push(selected);
  return names.sort();
}
