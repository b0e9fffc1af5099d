import { SubmitPage } from "./SubmitPage";

export default SubmitPage;
