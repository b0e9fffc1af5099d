/** The parts of `report_data` (the API's versioned report JSON, schema_version 1) this page
 * shows. The API types it as an open object, so it is read defensively. */
export interface Frame {
  file: string | null;
  line: number | null;
  function: string | null;
  module: string | null;
  language: string;
  in_app: boolean;
  raw: string;
}
export interface Snippet {
  start_line: number;
  end_line: number;
  content: string;
  highlight_line: number | null;
}
export interface CodeFile {
  file_path: string;
  snippets: Snippet[];
  relevance_score: number;
  selection_reason: string;
}
export interface SuspectCommit {
  sha: string;
  author: string | null;
  date: string | null;
  message: string;
  url: string | null;
  touches_culprit_line: boolean;
  reason: string;
}
export interface Diagnosis {
  schema_version: number;
  title: string;
  error_type: string | null;
  summary: string;
  root_cause: string;
  error_analysis: string;
  recommendations: string[];
  confidence_score: number;
  relevant_code_files: CodeFile[];
  category: string;
  frames: Frame[];
  culprit: Frame | null;
  culprit_file: string | null;
  code_mapping: { frame_path: string; repo_path: string | null; method: string }[];
  fingerprint: string;
  commit: { sha: string; source: string; ref: string | null } | null;
  suspect_commits: SuspectCommit[];
  diagnoser: { name: string; model: string | null; fallback_from: string | null };
  usage: { prompt_tokens: number; completion_tokens: number; estimated_cost_usd: number };
  provider_requests: number;
  timings_ms: Record<string, number>;
  limitations: string[];
}

export function asDiagnosis(data: Record<string, unknown> | null | undefined): Diagnosis | null {
  if (!data || data.schema_version !== 1 || typeof data.title !== "string") return null;
  const d = data as unknown as Partial<Diagnosis> & Pick<Diagnosis, "title">;
  return {
    schema_version: 1,
    error_type: null,
    summary: "",
    root_cause: "",
    error_analysis: "",
    confidence_score: 0,
    category: "unknown",
    culprit: null,
    culprit_file: null,
    fingerprint: "",
    commit: null,
    diagnoser: { name: "unknown", model: null, fallback_from: null },
    provider_requests: 0,
    ...d,
    recommendations: d.recommendations ?? [],
    relevant_code_files: d.relevant_code_files ?? [],
    frames: d.frames ?? [],
    code_mapping: d.code_mapping ?? [],
    suspect_commits: d.suspect_commits ?? [],
    limitations: d.limitations ?? [],
    usage: d.usage ?? { prompt_tokens: 0, completion_tokens: 0, estimated_cost_usd: 0 },
    timings_ms: d.timings_ms ?? {},
  };
}
