import { MembersPage } from "./MembersPage";

export default MembersPage;
