import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type IssueState = Schemas["IssueState"];
export type StateChange = Schemas["IssueBulk"]["state_change"];

export interface IssueFilters {
  state?: IssueState;
  assignee_id?: string;
  unassigned?: boolean;
  repository_id?: string;
}

export const issueKeys = {
  all: ["issues"] as const,
  lists: () => [...issueKeys.all, "list"] as const,
  list: (filters: IssueFilters) => [...issueKeys.lists(), filters] as const,
  details: () => [...issueKeys.all, "detail"] as const,
  detail: (id: string) => [...issueKeys.details(), id] as const,
  members: () => [...issueKeys.all, "members"] as const,
};

export const PAGE_SIZE = 25;

export function useIssueList(filters: IssueFilters) {
  return useInfiniteQuery({
    queryKey: issueKeys.list(filters),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/api/v1/issues", {
          params: { query: { ...filters, limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
}

export function useIssue(id: string) {
  return useQuery({
    queryKey: issueKeys.detail(id),
    queryFn: async () => unwrap(await api.GET("/api/v1/issues/{issue_id}", { params: { path: { issue_id: id } } })),
  });
}

/** The people an issue can be assigned to. Single-tenant platforms have no member list to
 * offer (the request fails): the picker is then not shown. */
export function useAssignableMembers() {
  return useQuery({
    queryKey: issueKeys.members(),
    queryFn: async () => unwrap(await api.GET("/api/v1/members")),
    retry: false,
    staleTime: 60_000,
  });
}

export function useUpdateIssue(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["IssueUpdate"]) =>
      unwrap(await api.PATCH("/api/v1/issues/{issue_id}", { params: { path: { issue_id: id } }, body })),
    onSuccess: (issue) => {
      client.setQueryData(issueKeys.detail(id), issue);
      void client.invalidateQueries({ queryKey: issueKeys.lists() });
    },
  });
}

export function useBulkChange() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas["IssueBulk"]) => unwrap(await api.POST("/api/v1/issue-changes", { body })),
    onSettled: () => void client.invalidateQueries({ queryKey: issueKeys.all }),
  });
}
