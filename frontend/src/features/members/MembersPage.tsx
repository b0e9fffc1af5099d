import { useState, type SubmitEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { InvitationCreated, Role } from "../../api/contract";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { CopyButton } from "../../components/CopyButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { exact } from "../../lib/format";
import ui from "../../components/ui.module.css";

export const memberKeys = {
  all: ["members"] as const,
  list: () => [...memberKeys.all, "list"] as const,
  invitations: () => [...memberKeys.all, "invitations"] as const,
};

const ROLES: Role[] = ["viewer", "member", "admin", "owner"];

export function MembersPage() {
  const session = useSession();
  const client = useQueryClient();
  const canManage = session.can("manageMembers");
  const grantable = ROLES.filter((r) => r !== "owner" || session.can("grantOwner"));
  const members = useQuery({
    queryKey: memberKeys.list(),
    queryFn: async () => unwrap(await api.GET("/api/v1/members")),
  });
  const invitations = useQuery({
    queryKey: memberKeys.invitations(),
    queryFn: async () => unwrap(await api.GET("/api/v1/invitations")),
    enabled: canManage,
  });
  const refresh = () => void client.invalidateQueries({ queryKey: memberKeys.all });
  const changeRole = useMutation({
    mutationFn: async ({ user_id, role }: { user_id: string; role: Role }) =>
      unwrap(await api.PATCH("/api/v1/members/{user_id}", { params: { path: { user_id } }, body: { role } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: async (user_id: string) =>
      unwrap(await api.DELETE("/api/v1/members/{user_id}", { params: { path: { user_id } } })),
    onSettled: refresh,
  });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [invited, setInvited] = useState<InvitationCreated | null>(null);
  const invite = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/invitations", { body: { email, role } })),
    onSuccess: (inv) => {
      setInvited(inv);
      setEmail("");
      refresh();
    },
  });
  const cancel = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE("/api/v1/invitations/{invitation_id}", { params: { path: { invitation_id: id } } })),
    onSettled: refresh,
  });

  function submit(event: SubmitEvent) {
    event.preventDefault();
    invite.mutate();
  }
  const link = invited?.accept_path ? `${window.location.origin}${invited.accept_path}` : null;

  return (
    <>
      <h1>Members</h1>
      {(changeRole.error ?? remove.error ?? cancel.error) && <ErrorState error={changeRole.error ?? remove.error ?? cancel.error} />}
      {members.isPending && <Loading label="Loading members" />}
      {members.isError && <ErrorState error={members.error} retry={() => void members.refetch()} />}
      {members.isSuccess && members.data.length === 0 && <Empty>No members.</Empty>}
      {members.isSuccess && members.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Since</th>
              {canManage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {members.data.map((m) => (
              <tr key={m.user_id}>
                <td>{m.display_name}</td>
                <td>{m.email}</td>
                <td>
                  {canManage && (m.role !== "owner" || session.can("grantOwner")) ? (
                    <select
                      aria-label={`Role of ${m.display_name}`}
                      value={m.role}
                      onChange={(e) => changeRole.mutate({ user_id: m.user_id, role: e.target.value as Role })}
                    >
                      {grantable.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td>{exact(m.created_at)}</td>
                {canManage && (
                  <td>
                    {(m.role !== "owner" || session.can("grantOwner")) && (
                      <ConfirmButton confirmLabel={`Remove ${m.display_name}`} onConfirm={() => remove.mutate(m.user_id)}>
                        Remove
                      </ConfirmButton>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canManage && (
        <>
          <section aria-labelledby="invite">
            <h2 id="invite">Invite someone</h2>
            {invited && (
              <div className={ui.card} role="status">
                <p>
                  Invitation for {invited.email} ({invited.role}) created; it expires {exact(invited.expires_at)}. Send
                  them this link (shown once):
                </p>
                {link && (
                  <>
                    <p className={ui.secret}>{link}</p>
                    <CopyButton text={link} label="Copy link" />
                  </>
                )}
              </div>
            )}
            <form className={ui.form} onSubmit={submit}>
              <label>
                E-mail
                <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
              </label>
              <label>
                Role
                <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
                  {grantable.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </label>
              {invite.isError && <ErrorState error={invite.error} />}
              <div>
                <button type="submit" className={ui.primary} disabled={invite.isPending}>
                  Invite
                </button>
              </div>
            </form>
          </section>
          <h2>Open invitations</h2>
          {invitations.isPending && <Loading />}
          {invitations.isError && <ErrorState error={invitations.error} />}
          {invitations.isSuccess && invitations.data.length === 0 && <Empty>No open invitations.</Empty>}
          {invitations.isSuccess && invitations.data.length > 0 && (
            <ul>
              {invitations.data.map((i) => (
                <li key={i.id} className={ui.row}>
                  {i.email} ({i.role}), expires {exact(i.expires_at)}
                  <ConfirmButton confirmLabel={`Cancel invitation for ${i.email}`} onConfirm={() => cancel.mutate(i.id)}>
                    Cancel
                  </ConfirmButton>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}
