import { ApiKeysPage } from "./ApiKeysPage";

export default ApiKeysPage;
