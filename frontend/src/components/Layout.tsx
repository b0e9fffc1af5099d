import { NavLink, Outlet } from "react-router";
import { useSession } from "../auth/session";
import styles from "./Layout.module.css";

export function Layout() {
  const session = useSession();
  const links: [string, string, boolean][] = [
    ["/", "Overview", true],
    ["/issues", "Issues", true],
    ["/reports", "Reports", true],
    ["/submit", "Submit a log", session.can("submit")],
    ["/repositories", "Repositories", true],
    ["/api-keys", "API keys", session.can("manageApiKeys")],
    ["/notifications", "Notifications", session.can("readNotifications")],
    ["/members", "Members", session.config.mode === "multi_tenant"],
  ];
  return (
    <div className={styles.shell}>
      <header className={styles.header}>
        <a href="#main" className={styles.skip}>
          Skip to content
        </a>
        <span className={styles.brand}>Log Dawg</span>
        <nav aria-label="Main" className={styles.nav}>
          {links
            .filter(([, , shown]) => shown)
            .map(([to, label]) => (
              <NavLink key={to} to={to} end={to === "/"} className={({ isActive }) => (isActive ? styles.active : "")}>
                {label}
              </NavLink>
            ))}
        </nav>
        <div className={styles.account}>
          {session.me.organisations.length > 1 && (
            <label className={styles.orgSwitch}>
              <span>Organisation</span>
              <select value={session.org?.id ?? ""} onChange={(e) => session.selectOrg(e.target.value)}>
                {session.me.organisations.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          {session.me.organisations.length === 1 && <span>{session.org?.name}</span>}
          {session.me.user && (
            <span title={session.me.user.email ?? undefined}>
              {session.me.user.display_name}
              {session.role && ` (${session.role})`}
            </span>
          )}
          {session.signOut && (
            <button type="button" onClick={session.signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" className={styles.main}>
        <Outlet />
      </main>
    </div>
  );
}
