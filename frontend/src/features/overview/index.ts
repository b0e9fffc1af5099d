import { OverviewPage } from "./OverviewPage";

export default OverviewPage;
