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

/** The organisation a session acts in: the remembered one while the user still belongs to it,
 * else their first. */
export function chooseOrg(me: Me, orgId: string | null): OrgOut | null {
  return me.organisations.find((o) => o.id === orgId) ?? me.organisations[0] ?? null;
}

/** Builds the session value; `role` falls back to owner on a single-tenant platform. */
export function makeSession(
  config: AuthConfig,
  me: Me,
  orgId: string | null,
  selectOrg: (id: string) => void,
  signOut: (() => void) | null,
): SessionValue {
  const org = chooseOrg(me, orgId);
  const role: Role | null = org?.role ?? (config.mode === "single_tenant" ? "owner" : null);
  return { config, me, org, role, selectOrg, signOut, can: (a) => allows(role, a) };
}
