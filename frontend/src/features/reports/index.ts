export { ReportsPage } from "./ReportsPage";
export { reportKeys, isActive, usePollInterval } from "./queries";
