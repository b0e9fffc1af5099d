import { RepositoriesPage } from "./RepositoriesPage";

export default RepositoriesPage;
export { useRepositoryList, repositoryKeys } from "./queries";
