export { IssuesPage as default } from "./IssuesPage";
export { IssuePage } from "./IssuePage";
export { issueKeys } from "./queries";
