import { useInfiniteQuery } from "@tanstack/react-query";
import { useRef } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { backoff } from "../../lib/format";

export interface ReportFilters {
  q?: string;
  status?: Schemas["ReportStatus"];
  repository_id?: string;
  category?: string;
  since?: string;
  until?: string;
}

export const reportKeys = {
  all: ["reports"] as const,
  lists: () => [...reportKeys.all, "list"] as const,
  list: (filters: ReportFilters) => [...reportKeys.lists(), filters] as const,
  details: () => [...reportKeys.all, "detail"] as const,
  detail: (id: string) => [...reportKeys.details(), id] as const,
  occurrences: (id: string) => [...reportKeys.detail(id), "occurrences"] as const,
};

export const isActive = (status: string) => status === "pending" || status === "running";

/** Polls while anything shown is pending or running: every second at first, backing off
 * (up to 15 s) while nothing changes, and back to a second when something does. */
export function usePollInterval() {
  const last = useRef({ signature: "", unchanged: 0 });
  return (statuses: string[]): number | false => {
    if (!statuses.some(isActive)) return false;
    const signature = statuses.join();
    if (signature === last.current.signature) last.current.unchanged += 1;
    else last.current = { signature, unchanged: 0 };
    return backoff(last.current.unchanged);
  };
}

export const PAGE_SIZE = 25;

export function useReportList(filters: ReportFilters) {
  const poll = usePollInterval();
  return useInfiniteQuery({
    queryKey: reportKeys.list(filters),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v1/reports", {
          params: { query: { ...filters, limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchInterval: (query) =>
      poll(query.state.data?.pages.flatMap((p) => p.items.map((i) => i.status)) ?? []),
  });
}
