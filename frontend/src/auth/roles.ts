import type { Role } from "../api/contract";

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** What each action needs (the auth contract's roles); what a role cannot do is not offered. */
export const NEEDS = {
  submit: "member",
  deleteReport: "member",
  rerunReport: "member",
  changeIssues: "member",
  manageRepositories: "admin",
  manageApiKeys: "admin",
  manageMembers: "admin",
  manageNotifications: "admin",
  readNotifications: "member",
  createLinkedIssue: "member",
  grantOwner: "owner",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof NEEDS;

export function allows(role: Role | null, action: Action): boolean {
  return role !== null && RANK[role] >= RANK[NEEDS[action]];
}
