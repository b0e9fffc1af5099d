import { createContext, useContext } from "react";
import type { AuthConfig, Me, OrgOut, Role } from "../api/contract";
import { allows, type Action } from "./roles";

export interface SessionValue {
  config: AuthConfig;
  me: Me;
  org: OrgOut | null;
  role: Role | null;
  selectOrg: (id: string) => void;
  signOut: (() => void) | null;
  can: (action: Action) => boolean;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside <SignIn>");
  return value;
}

/** Builds the session value; `role` falls back to owner on a single-tenant platform. */
export function makeSession(
  config: AuthConfig,
  me: Me,
  orgId: string | null,
  selectOrg: (id: string) => void,
  signOut: (() => void) | null,
): SessionValue {
  const org = me.organisations.find((o) => o.id === orgId) ?? me.organisations[0] ?? null;
  const role: Role | null = org?.role ?? (config.mode === "single_tenant" ? "owner" : null);
  return { config, me, org, role, selectOrg, signOut, can: (a) => allows(role, a) };
}
