import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import {
  InteractionRequiredAuthError,
  InteractionStatus,
  PublicClientApplication,
  type AccountInfo,
} from "@azure/msal-browser";
import { MsalProvider, useIsAuthenticated, useMsal } from "@azure/msal-react";
import type { AuthConfig } from "../api/contract";
import { ErrorState, Loading } from "../components/States";
import styles from "../components/ui.module.css";

type Render = (token: () => Promise<string | null>, signOut: () => void) => ReactNode;

/** Entra ID sign-in with MSAL (loaded only when the API says provider "entra"). */
export default function EntraSignIn({ config, children }: { config: AuthConfig; children: Render }) {
  const [instance, setInstance] = useState<PublicClientApplication | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!config.client_id || !config.authority) return;
    const pca = new PublicClientApplication({
      auth: {
        clientId: config.client_id,
        authority: config.authority,
        redirectUri: window.location.origin,
      },
      cache: { cacheLocation: "sessionStorage" },
    });
    pca
      .initialize()
      .then(() => pca.handleRedirectPromise())
      .then((result) => {
        const account = result?.account ?? pca.getAllAccounts()[0];
        if (account) pca.setActiveAccount(account);
        setInstance(pca);
      })
      .catch(setError);
  }, [config]);
  if (!config.client_id || !config.authority) {
    return <ErrorState error={new Error("The API's sign-in configuration has no client id or authority.")} />;
  }
  if (error) return <ErrorState error={error} />;
  if (!instance) return <Loading label="Loading sign-in" />;
  return (
    <MsalProvider instance={instance}>
      <Gate scopes={config.scopes}>{children}</Gate>
    </MsalProvider>
  );
}

function Gate({ scopes, children }: { scopes: string[]; children: Render }) {
  const { instance, inProgress, accounts } = useMsal();
  const signedIn = useIsAuthenticated();
  const account: AccountInfo | undefined = instance.getActiveAccount() ?? accounts[0];
  const token = useCallback(async () => {
    if (!account) return null;
    try {
      return (await instance.acquireTokenSilent({ scopes, account })).accessToken;
    } catch (e) {
      if (e instanceof InteractionRequiredAuthError) {
        await instance.acquireTokenRedirect({ scopes, account });
      }
      throw e;
    }
  }, [instance, scopes, account]);
  const signOut = useCallback(() => void instance.logoutRedirect(), [instance]);
  const rendered = useMemo(() => children(token, signOut), [children, token, signOut]);
  if (inProgress !== InteractionStatus.None) return <Loading label="Signing in" />;
  if (!signedIn) {
    return (
      <main className="centered">
        <h1>Log Dawg</h1>
        <p>Sign in with your organisation's Microsoft Entra ID account.</p>
        <button
          type="button"
          className={styles.primary}
          onClick={() => void instance.loginRedirect({ scopes })}
        >
          Sign in
        </button>
      </main>
    );
  }
  return rendered;
}
