import type { Schemas } from "../../api/client";

/** The diagnose request for what was pasted or dropped: a whole request (as the sample file
 * is), a JSON log object, or plain text. */
export function requestFor(text: string, repositoryId: string | null): Schemas["DiagnoseRequest"] {
  let body: Schemas["DiagnoseRequest"] = { log_data: { content: text } };
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const object = parsed as Record<string, unknown>;
      const logData = object.log_data;
      if (logData && typeof logData === "object" && "content" in logData) {
        body = { log_data: logData as Schemas["LogData"] };
      } else {
        body = { log_data: { content: object } };
      }
    }
  } catch {
    // Not JSON: the log is text.
  }
  if (repositoryId) body.repository_id = repositoryId;
  return body;
}
