import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { reportKeys, isActive, usePollInterval } from "../reports";

// This feature's keys: the report's own, from the reports feature's factory.
export const keys = {
  detail: reportKeys.detail,
  occurrences: reportKeys.occurrences,
  linkedIssue: (id: string) => [...reportKeys.detail(id), "linked-issue"] as const,
};

export function useReport(id: string) {
  const poll = usePollInterval();
  return useQuery({
    queryKey: keys.detail(id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/reports/{report_id}", { params: { path: { report_id: id } } })),
    refetchInterval: (query) => poll(query.state.data ? [query.state.data.status] : []),
  });
}

export function useOccurrences(id: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.occurrences(id),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/reports/{report_id}/occurrences", {
          params: { path: { report_id: id }, query: { limit: 50 } },
        }),
      ),
    enabled,
  });
}

/** The GitHub issue or Azure DevOps work item created from the report (null: none yet). */
export function useLinkedIssue(id: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.linkedIssue(id),
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/reports/{report_id}/linked-issue", { params: { path: { report_id: id } } })),
    enabled,
  });
}

export function useCreateLinkedIssue(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/reports/{report_id}/linked-issue", {
          params: { path: { report_id: id } },
          body: { comment_on_pull_request: true },
        }),
      ),
    onSuccess: (link) => client.setQueryData(keys.linkedIssue(id), link),
  });
}

export function useRerun(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/reports/{report_id}/rerun", { params: { path: { report_id: id } } })),
    onSuccess: (report) => {
      client.setQueryData(keys.detail(id), report);
      void client.invalidateQueries({ queryKey: reportKeys.lists() });
    },
  });
}

export function useDeleteReport(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE("/api/v1/reports/{report_id}", { params: { path: { report_id: id } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: keys.detail(id) });
      void client.invalidateQueries({ queryKey: reportKeys.lists() });
    },
  });
}

/** Fetches the Markdown (with the caller's credentials) and saves it as a file. */
export async function downloadMarkdown(id: string): Promise<void> {
  const result = await api.GET("/api/v1/reports/{report_id}/markdown", {
    params: { path: { report_id: id } },
    parseAs: "blob",
  });
  const blob = unwrap<Blob>(result);
  const url = URL.createObjectURL(new Blob([blob], { type: "text/markdown" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `logdawg-${id}.md`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export { isActive };
