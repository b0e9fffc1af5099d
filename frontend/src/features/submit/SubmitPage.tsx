import { useState, type DragEvent, type SubmitEvent } from "react";
import { useNavigate } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ErrorState } from "../../components/States";
import { reportKeys } from "../reports";
import { repositoryName, useRepositoryList } from "../repositories";
import { requestFor } from "./request";
import styles from "./Submit.module.css";
import ui from "../../components/ui.module.css";

export const submitKeys = { all: ["submit"] as const };

export function SubmitPage() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const repositories = useRepositoryList();
  const [text, setText] = useState("");
  const [repo, setRepo] = useState("");
  const [dragging, setDragging] = useState(false);
  const submit = useMutation({
    mutationKey: submitKeys.all,
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/logs/diagnose", { body: requestFor(text, repo || null) })),
    onSuccess: (accepted) => {
      void client.invalidateQueries({ queryKey: reportKeys.lists() });
      void navigate(`/reports/${accepted.diagnosis_id}`);
    },
  });

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) void file.text().then(setText);
  }
  function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    submit.mutate();
  }
  const repoList = repositories.data ?? [];

  return (
    <>
      <h1>Submit a log</h1>
      <form className={ui.form} onSubmit={onSubmit}>
        <label>
          Repository
          <select value={repo} onChange={(e) => setRepo(e.target.value)}>
            <option value="">
              {repoList.length === 1 ? `${repoList[0]?.name ?? ""} (the only one)` : "none"}
            </option>
            {repoList.map((r) => (
              <option key={r.id} value={r.id}>
                {repositoryName(r)}
              </option>
            ))}
          </select>
        </label>
        <label
          className={dragging ? `${styles.drop} ${styles.dragging}` : styles.drop}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          The log: paste it, or drop a file here
          <textarea
            required
            rows={16}
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder='Traceback (most recent call last): …   or a JSON log, or {"log_data": {…}}'
          />
        </label>
        <label>
          Or choose a file
          <input type="file" accept=".log,.txt,.json,text/*,application/json" onChange={(e) => void e.target.files?.[0]?.text().then(setText)} />
        </label>
        {submit.isError && <ErrorState error={submit.error} />}
        <div>
          <button type="submit" className={ui.primary} disabled={submit.isPending || !text.trim()}>
            {submit.isPending ? "Submitting…" : "Diagnose"}
          </button>
        </div>
      </form>
    </>
  );
}
