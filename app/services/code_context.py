"""Running the engine for a job: the repository's code source and the diagnoser.

The worker's ``diagnose`` for ``process_job``. It loads the report's repository and unseals
its token inside the job's organisation (row-level security applies), picks the code source
for the provider, and runs the engine. A repository that cannot be read for a reason a person
must fix (local checkouts in multi-tenant mode, a provider this build cannot read) becomes a
limitation in the report; transient provider failures propagate so the job is retried.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analysis import engine
from app.analysis.diagnoser import Diagnoser
from app.analysis.engine import CodeSource, RepoContext, SourceError
from app.analysis.mapping import CodeMapping
from app.analysis.report import DiagnosisReport
from app.analysis.sources import ProviderSource
from app.db.models import CodeMappingRule, Repository
from app.db.session import tenant_session
from app.git.cache import LayeredCache, MemoryCache, PostgresCache
from app.git.factory import provider_for
from app.git.tokens import InstallationGone, TokenSource
from app.git.types import GitProviderError, RepoRef
from app.issues.codeowners import owners_in_repository
from app.secrets.base import KeyWrapper
from app.services.diagnoses import JobInput
from app.services.repository_access import RepositoryAccess, mark_unreachable
from app.settings import Settings

logger = logging.getLogger(__name__)


async def with_code_owners(report: DiagnosisReport, source: CodeSource) -> DiagnosisReport:
    """The report with the CODEOWNERS owners of its culprit file, read at the diagnosed
    commit. A CODEOWNERS file that cannot be read leaves the owners out, not the diagnosis."""
    if not report.culprit_file or report.commit is None:
        return report
    try:
        found = await owners_in_repository(source, report.commit.sha, report.culprit_file)
    except SourceError as exc:
        logger.warning("could not read CODEOWNERS: %s", exc)
        return report
    if found is None:
        return report
    path, owners = found
    return report.model_copy(update={"code_owners": owners, "code_owners_file": path})


@dataclass
class EngineRunner:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    kek: KeyWrapper
    diagnoser: Diagnoser | None = None

    # One memory layer per worker process, shared by its jobs (keys carry the organisation).
    memory: MemoryCache = field(default_factory=MemoryCache)
    # Tests point the clients at local fake servers through this.
    transport: Any = None
    # How repositories are read without pasted tokens; shared by the process's jobs.
    access: RepositoryAccess = field(default_factory=RepositoryAccess)

    async def aclose(self) -> None:
        if self.diagnoser is not None:
            await self.diagnoser.aclose()

    async def source_for(
        self, org_id: uuid.UUID, repository: Repository, token: str | TokenSource | None
    ) -> CodeSource:
        repo = RepoRef.of(repository)
        cache = LayeredCache(self.memory, PostgresCache(self.sessions, org_id), str(org_id))
        try:
            if token is not None and not isinstance(token, str):
                await token.token()  # an uninstalled app or a refused identity shows here
            provider = await provider_for(
                repo,
                token,
                self.settings,
                cache=cache,
                cache_scope=str(repository.id),
                transport=self.transport,
            )
        except GitProviderError as exc:
            if isinstance(exc, InstallationGone):
                await self._unreachable(org_id, repository.id, exc)
            raise SourceError(str(exc), transient=exc.transient) from None
        return ProviderSource(provider, repo)

    async def _unreachable(
        self, org_id: uuid.UUID, repo_id: uuid.UUID, exc: GitProviderError
    ) -> None:
        async with tenant_session(self.sessions, org_id) as session, session.begin():
            await mark_unreachable(session, repo_id, exc)

    async def __call__(self, job: JobInput) -> DiagnosisReport:
        note: str | None = None
        repo: RepoContext | None = None
        learned: list[CodeMapping] = []
        if job.repo_id is not None:
            async with tenant_session(self.sessions, job.org_id) as session:
                repository = await session.get(Repository, job.repo_id)
                token: str | TokenSource | None = None
                refused: GitProviderError | None = None
                if repository is not None:
                    try:
                        token = await self.access.credential_for(session, self.kek, repository)
                    except GitProviderError as exc:
                        refused = exc
                rules = await session.scalars(
                    select(CodeMappingRule)
                    .where(CodeMappingRule.repo_id == job.repo_id)
                    .order_by(CodeMappingRule.created_at)
                )
                learned = [CodeMapping(r.stack_root, r.source_root) for r in rules]
            if repository is None:
                note = "The repository this log was submitted for has been deleted."
            elif refused is not None:
                if isinstance(refused, InstallationGone):
                    await self._unreachable(job.org_id, repository.id, refused)
                note = f"{RepoRef.of(repository).label} could not be read: {refused}."
            else:
                try:
                    source = await self.source_for(job.org_id, repository, token)
                except SourceError as exc:
                    note = f"{RepoRef.of(repository).label} could not be read: {exc}."
                else:
                    repo = RepoContext(
                        source=source,
                        default_branch=repository.default_branch,
                        learned=learned,
                        name=RepoRef.of(repository).label,
                    )
        try:
            result = await engine.diagnose(
                job.log_data, repo=repo, diagnoser=self.diagnoser, no_repository=note
            )
            if repo is not None:
                result.report = await with_code_owners(result.report, repo.source)
        finally:
            if repo is not None and isinstance(repo.source, ProviderSource):
                await repo.source.aclose()
        if result.new_mappings and job.repo_id is not None:
            await self._remember(job, result.new_mappings)
        return result.report

    async def _remember(self, job: JobInput, rules: list[CodeMapping]) -> None:
        """Keep what this diagnosis learned; a rule another worker stored first is kept."""
        async with tenant_session(self.sessions, job.org_id) as session, session.begin():
            await session.execute(
                insert(CodeMappingRule)
                .values(
                    [
                        {
                            "org_id": job.org_id,
                            "repo_id": job.repo_id,
                            "stack_root": rule.stack_root[:1024],
                            "source_root": rule.source_root[:1024],
                        }
                        for rule in rules
                    ]
                )
                .on_conflict_do_nothing()
            )
