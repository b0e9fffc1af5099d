import { RepositoriesPage } from "./RepositoriesPage";

export default RepositoriesPage;
export { GitHubInstalledPage } from "./GitHubInstalledPage";
export { repositoryKeys, repositoryName, useRepositoryList } from "./queries";
