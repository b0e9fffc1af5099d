import type { Schemas } from "../../api/client";

type Entry = Schemas["TimelineEntry"];

function str(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** One timeline entry as a sentence: what happened, and why when the platform did it. */
export function describe(entry: Entry, names: Map<string, string> = new Map()): string {
  const data = entry.data;
  const who = entry.actor ? (entry.actor.name ?? "Someone") : null;
  switch (entry.kind) {
    case "created":
      return "First seen";
    case "resolved": {
      const where = str(data.release) ? ` in release ${str(data.release)}` : str(data.commit) ? ` in commit ${str(data.commit)?.slice(0, 12)}` : "";
      return `${who ?? "Resolved"}${who ? " resolved it" : ""}${where}`;
    }
    case "ignored": {
      const until: string[] = [];
      if (typeof data.occurrences === "number") until.push(`${data.occurrences} more occurrence${data.occurrences === 1 ? "" : "s"}`);
      if (str(data.until)) until.push(new Date(str(data.until) ?? "").toLocaleString("en-GB"));
      return `${who ?? "Ignored"}${who ? " ignored it" : ""}${until.length ? ` until ${until.join(" or ")}` : ""}`;
    }
    case "unresolved":
      return `${who ?? "Someone"} reopened it`;
    case "regression": {
      const seen = str(data.release) ? `release ${str(data.release)}` : str(data.commit) ? `commit ${str(data.commit)?.slice(0, 12)}` : "a new occurrence";
      const fixed = str(data.resolved_in_release)
        ? ` (resolved in ${str(data.resolved_in_release)})`
        : str(data.resolved_in_commit)
          ? ` (resolved in commit ${str(data.resolved_in_commit)?.slice(0, 12)})`
          : "";
      return `Regression: seen again in ${seen}${fixed}, reopened`;
    }
    case "ignore_lapsed":
      return data.reason === "date" ? "The ignore period ended: unresolved again" : "Occurred often enough to end the ignore: unresolved again";
    case "assigned": {
      const id = str(data.assignee_id);
      const name = (id && names.get(id)) ?? "someone";
      if (data.source === "codeowners") return `Assigned to ${name} (code owner of the culprit file)`;
      return `${who ?? "Someone"} assigned it to ${name}`;
    }
    case "unassigned":
      return `${who ?? "Someone"} unassigned it`;
    default:
      return entry.kind;
  }
}

/** Toggling one id in a selection (a new Set, so React sees the change). */
export function toggled(selection: ReadonlySet<string>, id: string): Set<string> {
  const next = new Set(selection);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Select all shown, or (when all shown are selected) none. */
export function toggledAll(selection: ReadonlySet<string>, shown: string[]): Set<string> {
  const all = shown.length > 0 && shown.every((id) => selection.has(id));
  return all ? new Set() : new Set(shown);
}

/** The state change a form asks for, or an error message to show instead. */
export function ignoreChange(count: string, until: string): Schemas["Ignore"] | string {
  const change: Schemas["Ignore"] = { state: "ignored" };
  if (count.trim()) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) return "The number of occurrences must be a whole number of at least 1.";
    change.count = n;
  }
  if (until) {
    const date = new Date(`${until}T00:00:00`);
    if (Number.isNaN(date.getTime())) return "The date is not valid.";
    change.until = date.toISOString();
  }
  return change;
}
