import { lazy, Suspense, useCallback, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, setSession, unwrap } from "../api/client";
import type { AuthConfig, Me } from "../api/contract";
import { ErrorState, Loading } from "../components/States";
import { AcceptInvitation, ACCEPT_PATH } from "./AcceptInvitation";
import { CreateOrganisation } from "./CreateOrganisation";
import { DevSignInForm } from "./DevSignInForm";
import { chooseOrg, makeSession, SessionContext } from "./session";

const EntraSignIn = lazy(() => import("./EntraSignIn"));

const ORG_KEY = "logdawg.org";
const DEV_TOKEN_KEY = "logdawg.devToken";

export const authKeys = {
  config: ["auth", "config"] as const,
  me: (org: string | null) => ["auth", "me", org] as const,
};

async function fetchConfig(): Promise<AuthConfig> {
  return unwrap(await api.GET("/api/v1/auth/config"));
}

async function fetchMe(): Promise<Me> {
  return unwrap(await api.GET("/api/v1/me"));
}

/** Reads /api/v1/auth/config, signs the user in the way it says, then provides the session. */
export function SignIn({ children }: { children: ReactNode }) {
  const config = useQuery({ queryKey: authKeys.config, queryFn: fetchConfig, staleTime: Infinity });
  if (config.isPending) return <Loading label="Starting" />;
  if (config.isError) return <ErrorState error={config.error} />;
  const cfg = config.data;
  if (cfg.provider === "entra") {
    return (
      <Suspense fallback={<Loading label="Loading sign-in" />}>
        <EntraSignIn config={cfg}>
          {(token, signOut) => (
            <Signed config={cfg} token={token} signOut={signOut}>
              {children}
            </Signed>
          )}
        </EntraSignIn>
      </Suspense>
    );
  }
  if (cfg.provider === "dev") return <DevSession config={cfg}>{children}</DevSession>;
  return (
    <Signed config={cfg} token={null} signOut={null}>
      {children}
    </Signed>
  );
}

function DevSession({ config, children }: { config: AuthConfig; children: ReactNode }) {
  const [token, setToken] = useState(() => sessionStorage.getItem(DEV_TOKEN_KEY));
  const queryClient = useQueryClient();
  const signOut = useCallback(() => {
    sessionStorage.removeItem(DEV_TOKEN_KEY);
    queryClient.clear();
    setToken(null);
  }, [queryClient]);
  if (!token) {
    return (
      <DevSignInForm
        onSignedIn={(t) => {
          sessionStorage.setItem(DEV_TOKEN_KEY, t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <Signed config={config} token={() => Promise.resolve(token)} signOut={signOut}>
      {children}
    </Signed>
  );
}

function Signed({
  config,
  token,
  signOut,
  children,
}: {
  config: AuthConfig;
  token: (() => Promise<string | null>) | null;
  signOut: (() => void) | null;
  children: ReactNode;
}) {
  const [orgId, setOrgId] = useState(() => localStorage.getItem(ORG_KEY));
  const queryClient = useQueryClient();
  // Idempotent: every request made from here on carries this user's token and organisation
  // (one of theirs: a remembered organisation they left is not sent).
  const me = useQuery({ queryKey: authKeys.me(orgId), queryFn: fetchMe });
  const known = me.data ? chooseOrg(me.data, orgId) : null;
  setSession({ token: token ?? (() => Promise.resolve(null)), org: () => known?.id ?? null });
  const selectOrg = useCallback(
    (id: string) => {
      localStorage.setItem(ORG_KEY, id);
      setOrgId(id);
      // Everything cached belongs to the previous organisation.
      void queryClient.resetQueries({ predicate: (q) => q.queryKey[0] !== "auth" });
    },
    [queryClient],
  );
  if (me.isPending) return <Loading label="Signing in" />;
  if (me.isError) {
    // An expired or refused sign-in: offer a fresh one rather than a dead end.
    if (me.error instanceof ApiError && me.error.status === 401 && signOut) {
      return (
        <main className="centered">
          <ErrorState error={me.error} />
          <p>
            <button type="button" onClick={signOut}>
              Sign in again
            </button>
          </p>
        </main>
      );
    }
    return <ErrorState error={me.error} />;
  }
  if (config.mode === "multi_tenant" && window.location.pathname === ACCEPT_PATH) {
    return <AcceptInvitation onJoined={selectOrg} />;
  }
  const value = makeSession(config, me.data, orgId, selectOrg, signOut);
  if (config.mode === "multi_tenant" && value.org === null) {
    return <CreateOrganisation onCreated={selectOrg} signOut={signOut} />;
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
