import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type Rule = Schemas["RuleOut"];
export type RuleCreate =
  | Schemas["SlackRule"]
  | Schemas["TeamsRule"]
  | Schemas["EmailRule"]
  | Schemas["WebhookRule"]
  | Schemas["IssueTrackerRule"];
export type Delivery = Schemas["DeliveryOut"];

export const notificationKeys = {
  all: ["notification-rules"] as const,
  list: () => [...notificationKeys.all, "list"] as const,
  deliveries: (ruleId: string) => [...notificationKeys.all, "deliveries", ruleId] as const,
};

export function useRules() {
  return useQuery({
    queryKey: notificationKeys.list(),
    queryFn: async () => unwrap(await api.GET("/api/v1/notification-rules")),
  });
}

export function useDeliveries(ruleId: string | null) {
  return useQuery({
    queryKey: notificationKeys.deliveries(ruleId ?? ""),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/notification-rules/{rule_id}/deliveries", {
          params: { path: { rule_id: ruleId ?? "" }, query: { limit: 50 } },
        }),
      ),
    enabled: ruleId !== null,
    // A retry may be minutes away; a glance every few seconds shows it happen.
    refetchInterval: 5_000,
  });
}

export function useCreateRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: RuleCreate) => unwrap(await api.POST("/api/v1/notification-rules", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}

export function useDeleteRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/api/v1/notification-rules/{rule_id}", { params: { path: { rule_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}
