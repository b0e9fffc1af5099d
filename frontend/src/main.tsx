import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadRuntimeConfig } from "./api/runtimeConfig";
import "./global.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
try {
  await loadRuntimeConfig(); // where the API is: before the first call
} catch (error) {
  root.textContent = error instanceof Error ? error.message : String(error);
  throw error;
}
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
