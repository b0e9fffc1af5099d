import { useState, type SubmitEvent } from "react";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Empty, ErrorState, Loading } from "../../components/States";
import { exact, when } from "../../lib/format";
import { useCreateRule, useDeleteRule, useDeliveries, useRules, type Rule, type RuleCreate } from "./queries";
import ui from "../../components/ui.module.css";

type Channel = RuleCreate["channel"];
type Trigger = RuleCreate["trigger"];

const CHANNELS: Record<Channel, string> = {
  slack: "Slack (incoming webhook)",
  teams: "Microsoft Teams (workflow webhook)",
  email: "E-mail (SMTP)",
  webhook: "Outbound webhook (signed)",
  issue_tracker: "Create a GitHub issue / Azure DevOps work item",
};
const TRIGGERS: Record<Trigger, string> = {
  new: "A new issue",
  regression: "A regression",
  threshold: "An issue crossing N occurrences in M minutes",
};
const SECRET_LABEL: Record<Channel, string> = {
  slack: "Webhook URL",
  teams: "Workflow webhook URL",
  email: "SMTP password (empty: no sign-in)",
  webhook: "Signing secret (16 characters or more)",
  issue_tracker: "",
};

function describe(rule: Rule): string {
  return rule.trigger === "threshold"
    ? `${rule.threshold_count ?? "?"} occurrences in ${rule.threshold_minutes ?? "?"} min`
    : TRIGGERS[rule.trigger];
}

export function NotificationsPage() {
  const session = useSession();
  const rules = useRules();
  const remove = useDeleteRule();
  const [selected, setSelected] = useState<string | null>(null);
  const manage = session.can("manageNotifications");
  const current = rules.data?.find((r) => r.id === selected) ?? null;
  return (
    <>
      <h1>Notifications</h1>
      <p className={ui.muted}>
        Rules tell people when something new breaks, comes back, or happens too often. Messages go through the job
        queue with retries; a storm becomes one digest. Secrets are write-only: only a hint is shown.
      </p>
      {manage && <NewRule />}
      <h2>Rules</h2>
      {remove.isError && <ErrorState error={remove.error} />}
      {rules.isPending && <Loading label="Loading rules" />}
      {rules.isError && <ErrorState error={rules.error} retry={() => void rules.refetch()} />}
      {rules.isSuccess && rules.data.length === 0 && <Empty>No notification rules yet.</Empty>}
      {rules.isSuccess && rules.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">When</th>
              <th scope="col">Channel</th>
              <th scope="col">Secret</th>
              <th scope="col">Storm limit</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rules.data.map((rule) => (
              <tr key={rule.id}>
                <td>{rule.name}</td>
                <td>{describe(rule)}</td>
                <td>{CHANNELS[rule.channel]}</td>
                <td>
                  <code>{rule.secret_hint}</code>
                </td>
                <td>
                  {rule.storm_limit} per {Math.round(rule.storm_window_s / 60)} min
                </td>
                <td className={ui.row}>
                  <button type="button" onClick={() => setSelected(rule.id)} aria-pressed={selected === rule.id}>
                    Delivery log
                  </button>
                  {manage && (
                    <ConfirmButton confirmLabel={`Delete ${rule.name}`} onConfirm={() => remove.mutate(rule.id)}>
                      Delete
                    </ConfirmButton>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && <DeliveryLog rule={current} />}
    </>
  );
}

function DeliveryLog({ rule }: { rule: Rule }) {
  const log = useDeliveries(rule.id);
  return (
    <section aria-labelledby="delivery-log">
      <h2 id="delivery-log">Delivery log: {rule.name}</h2>
      {log.isPending && <Loading label="Loading the delivery log" />}
      {log.isError && <ErrorState error={log.error} retry={() => void log.refetch()} />}
      {log.isSuccess && log.data.length === 0 && <Empty>Nothing sent yet.</Empty>}
      {log.isSuccess && log.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Queued</th>
              <th scope="col">About</th>
              <th scope="col">Status</th>
              <th scope="col">Response</th>
              <th scope="col">Attempts</th>
              <th scope="col">Next retry</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {log.data.map((d) => (
              <tr key={d.id}>
                <td title={exact(d.created_at)}>{when(d.created_at)}</td>
                <td>{d.kind === "digest" ? "Digest" : (d.title ?? d.event)}</td>
                <td>{d.status === "digested" ? "in the digest" : d.status}</td>
                <td>{d.response_code ?? "—"}</td>
                <td>{d.attempts}</td>
                <td>{d.next_retry_at ? exact(d.next_retry_at) : "—"}</td>
                <td>{d.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function NewRule() {
  const create = useCreateRule();
  const [name, setName] = useState("");
  const [trigger, setTrigger] = useState<Trigger>("new");
  const [channel, setChannel] = useState<Channel>("slack");
  const [secret, setSecret] = useState("");
  const [count, setCount] = useState(10);
  const [minutes, setMinutes] = useState(5);
  const [url, setUrl] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState(587);
  const [starttls, setStarttls] = useState(true);
  const [username, setUsername] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");

  function submit(event: SubmitEvent) {
    event.preventDefault();
    const common = {
      name,
      trigger,
      ...(trigger === "threshold" ? { threshold_count: count, threshold_minutes: minutes } : {}),
    };
    const recipients = to
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    const body: RuleCreate =
      channel === "webhook"
        ? { ...common, channel, secret, config: { url } }
        : channel === "email"
          ? {
              ...common,
              channel,
              secret,
              config: { host, port, starttls, username: username || null, from_address: from, to: recipients },
            }
          : channel === "issue_tracker"
            ? { ...common, channel, config: { comment_on_pull_request: true } }
            : { ...common, channel, secret };
    create.mutate(body, {
      onSuccess: () => {
        setName("");
        setSecret("");
      },
    });
  }

  return (
    <section aria-labelledby="new-rule">
      <h2 id="new-rule">Add a rule</h2>
      <form className={ui.form} onSubmit={submit}>
        <label>
          Name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="on-call" />
        </label>
        <label>
          When
          <select value={trigger} onChange={(e) => setTrigger(e.target.value as Trigger)}>
            {Object.entries(TRIGGERS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {trigger === "threshold" && (
          <div className={ui.row}>
            <label>
              Occurrences (N)
              <input type="number" min={1} value={count} onChange={(e) => setCount(Number(e.target.value))} />
            </label>
            <label>
              Within minutes (M)
              <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} />
            </label>
          </div>
        )}
        <label>
          Channel
          <select value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
            {Object.entries(CHANNELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {channel === "webhook" && (
          <label>
            Receiver URL
            <input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
          </label>
        )}
        {channel === "email" && (
          <>
            <div className={ui.row}>
              <label>
                SMTP host
                <input required value={host} onChange={(e) => setHost(e.target.value)} placeholder="smtp.example.com" />
              </label>
              <label>
                Port
                <input type="number" min={1} max={65535} value={port} onChange={(e) => setPort(Number(e.target.value))} />
              </label>
            </div>
            <label className={ui.check}>
              <input type="checkbox" checked={starttls} onChange={(e) => setStarttls(e.target.checked)} /> STARTTLS
            </label>
            <label>
              User name
              <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
            </label>
            <label>
              From
              <input required type="email" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              To (comma-separated)
              <input required value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
          </>
        )}
        {channel === "issue_tracker" ? (
          <p className={ui.muted}>
            In the report&apos;s repository, with its own credentials (they need write access to issues or work
            items), and a comment on the suspect commit&apos;s pull request.
          </p>
        ) : (
          <label>
            {SECRET_LABEL[channel]}
            <input
              type="password"
              autoComplete="off"
              required={channel !== "email"}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
            />
          </label>
        )}
        {create.isError && <ErrorState error={create.error} />}
        <div>
          <button type="submit" className={ui.primary} disabled={create.isPending}>
            Add rule
          </button>
        </div>
      </form>
    </section>
  );
}
