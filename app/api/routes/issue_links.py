"""``/api/v1/reports/{id}/linked-issue``: the GitHub issue or Azure DevOps work item of a
report, created from it once."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Response, status

from app.api.deps import Member, PlatformDep, SessionDep, Viewer
from app.api.notification_schemas import IssueLinkCreate, IssueLinkOut
from app.db.models import Report, ReportIssueLink
from app.git.tokens import InstallationGone
from app.git.types import (
    BadCredentials,
    GitProviderError,
    ProviderUnavailable,
    RateLimited,
)
from app.git.writeback import TrackerMissing, WriteForbidden
from app.services import issue_links

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _out(link: ReportIssueLink, *, created: bool = False, note: str | None = None) -> IssueLinkOut:
    return IssueLinkOut(
        provider=link.provider,
        external_id=link.external_id,
        url=link.url,
        pull_request_comment_url=link.pull_request_comment_url,
        created_at=link.created_at,
        created=created,
        pull_request_note=note,
    )


@router.get("/{report_id}/linked-issue")
async def get_linked_issue(
    report_id: uuid.UUID, session: SessionDep, actor: Viewer
) -> IssueLinkOut | None:
    """The report's issue or work item; null when none was created yet."""
    if await session.get(Report, report_id) is None:
        raise HTTPException(404, f"No report {report_id}.")
    link = await issue_links.link_of(session, report_id)
    return _out(link) if link is not None else None


@router.post(
    "/{report_id}/linked-issue",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The report already had one; nothing new was created."},
        409: {"description": "The report cannot have one (no diagnosis or no repository)."},
        422: {"description": "The provider refused: the token lacks a write permission."},
        502: {"description": "The provider could not be reached or failed."},
    },
)
async def create_linked_issue(
    report_id: uuid.UUID,
    session: SessionDep,
    platform: PlatformDep,
    actor: Member,
    response: Response,
    body: IssueLinkCreate | None = None,
) -> IssueLinkOut:
    """Create a GitHub issue (GitHub repositories) or an Azure DevOps Bug work item with the
    diagnosis in Markdown and a link back to the report, and (optionally) comment on the pull
    request that brought in the suspect commit. Once: a second call, or a concurrent one,
    answers the existing link with 200."""
    report = await session.get(Report, report_id)
    if report is None:
        raise HTTPException(404, f"No report {report_id}.")
    options = body or IssueLinkCreate()
    try:
        result = await issue_links.create_link(
            session,
            report,
            kek=platform.kek,
            access=platform.access,
            settings=platform.settings,
            created_by=actor.user_id,
            comment_on_pull_request=options.comment_on_pull_request,
        )
    except issue_links.CannotLink as exc:
        raise HTTPException(409, str(exc)) from None
    except (WriteForbidden, BadCredentials, TrackerMissing, InstallationGone) as exc:
        raise HTTPException(422, str(exc)) from None
    except (RateLimited, ProviderUnavailable) as exc:
        raise HTTPException(502, f"{exc}; nothing was created, try again later.") from None
    except GitProviderError as exc:
        raise HTTPException(422, str(exc)) from None
    await session.commit()
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _out(result.link, created=result.created, note=result.pull_request_note)
