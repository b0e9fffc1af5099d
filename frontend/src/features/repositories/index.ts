import { RepositoriesPage } from "./RepositoriesPage";

export default RepositoriesPage;
export { repositoryKeys, repositoryName, useRepositoryList } from "./queries";
