"""HTTP for data collection: parse, authorise, call the service, shape the response."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from dudao.auth.principal import Principal, Role
from dudao.divisions.tree import InvalidDivisionCode
from dudao.errors import InvalidInput, PreconditionFailed, PreconditionRequired, field_error, problems
from dudao.etag import etag
from dudao.http.dependencies import CurrentPrincipal, UoW, require
from dudao.http.params import IfMatch, Office, Rt, Within
from dudao.http.responses import json_model
from dudao.http.routing import transactional_router
from dudao.jurisdiction import DivisionOutsideJurisdiction
from dudao.pagination import Cursor, Limit, UpdatedSince, decode_cursor, json_page, page_of
from monitoring.agency import service as agency
from monitoring.collection import importing, service
from monitoring.collection.importing import UnitRow
from monitoring.collection.models import Submission, SubmissionStatus
from monitoring.collection.schemas import (
    BatchReviewCreate,
    BulkSubmitted,
    ReviewCreate,
    Reviewed,
    RuleRead,
    SubmissionCreate,
    SubmissionDetail,
    SubmissionPage,
    SubmissionRead,
    TaskCreate,
    TaskDetail,
    TaskPage,
)

router = transactional_router(tags=["data collection"])

# Schools' own people, offices, and agencies' keys submit data.
Submitter = Annotated[Principal, Depends(require(Role.SUPERVISED_UNIT, Role.SUPERVISION_OFFICE, Role.AGENCY))]
# Who takes part in a task reads it: a portal does not (it reads only what is published).
Participant = Annotated[
    Principal, Depends(require(Role.SUPERVISED_UNIT, Role.SUPERVISION_OFFICE, Role.INSPECTOR, Role.AGENCY))
]

_SUBMIT_PROBLEMS = problems(
    service.TaskNotFound,
    service.SubmissionRejected,
    service.SubmissionTaken,
    agency.AgencyKeyRequired,
    agency.KeyNotBound,
    agency.CommissionNotInForce,
    agency.OutsideCommission,
    importing.UnreadableSubmission,
)


@router.post(
    "/v1/collection-tasks",
    status_code=201,
    response_model=TaskDetail,
    responses=problems(service.UnknownSystem, InvalidInput, InvalidDivisionCode, DivisionOutsideJurisdiction),
)
async def issue_task(body: TaskCreate, uow: UoW, who: Office, rt: Rt) -> Response:
    """Issue a collection task (采集任务): which base elements of an indicator system, from which schools
    or counties (those under ``division_code``, or only ``units``), for which year, due when; with its
    validation rules. Its form is the elements' labels and units as the system has them today."""
    task, rules = await service.create_task(uow, who, rt.divisions, body)
    detail = TaskDetail.model_validate({**task, "rules": [RuleRead.model_validate(r) for r in rules]})
    headers = {"Location": f"/v1/collection-tasks/{task['id']}", "ETag": etag(task["id"], task["version"])}
    return json_model(detail, 201, headers)


@router.get("/v1/collection-tasks", response_model=TaskPage)
async def list_tasks(
    uow: UoW,
    who: CurrentPrincipal,
    cursor: Cursor = None,
    limit: Limit = 50,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """Tasks issued within your jurisdiction and those addressed to it from above, by id; with
    ``updated_since``, by change time for syncing."""
    rows = await service.page_tasks(
        uow, who, after=decode_cursor(cursor), limit=limit, year=year, updated_since=updated_since
    )
    return json_page(TaskPage, rows, limit)


@router.get(
    "/v1/collection-tasks/{task_id}", response_model=TaskDetail, responses=problems(service.TaskNotFound)
)
async def get_task(task_id: UUID, uow: UoW, who: Participant, response: Response) -> TaskDetail:
    """A task with its form and validation rules; 404 if it is not one you see."""
    task = await service.get_task(uow, who, task_id)
    rules = await service.rules_of(uow, task)
    response.headers["ETag"] = etag(task.id, task.version)
    return TaskDetail.model_validate(
        {**{c: getattr(task, c) for c in TaskDetail.model_fields if c != "rules"}, "rules": rules}
    )


def _submission(submission: dict[str, Any] | Submission) -> SubmissionRead:
    return SubmissionRead.model_validate(submission)


@router.post(
    "/v1/collection-tasks/{task_id}/submissions",
    status_code=201,
    response_model=SubmissionRead,
    responses=_SUBMIT_PROBLEMS,
)
async def submit(task_id: UUID, body: SubmissionCreate, uow: UoW, who: Submitter, rt: Rt) -> Response:
    """Submit one unit's values (填报), or submit them again while unreviewed or after a return (200).

    A school's own people submit for their school (``org`` = its school code) and may leave ``unit``
    out; offices submit for units within their jurisdiction, agencies for those of their commission. The
    values are the unit's whole form: an element left out is blank. A 422 names every bad value as
    ``{row: 1, column: <element>, reason}``, and nothing is written."""
    unit = body.unit or (who.org if Role.SUPERVISED_UNIT in who.roles else None)
    if unit is None:
        raise field_error(InvalidInput, "unit", "name the school code or county code submitted for")
    task = await service.get_task(uow, who, task_id)
    done = await service.submit(uow, who, rt.divisions, task, [UnitRow(1, unit, dict(body.values))])
    [row] = done.submissions
    stored = await service.get_submission(uow, who, row["id"])
    status = 201 if done.created else 200
    headers = {"Location": f"/v1/submissions/{stored.id}", "ETag": etag(stored.id, stored.version)}
    return json_model(_submission(stored), status, headers)


@router.post(
    "/v1/collection-tasks/{task_id}/submissions/bulk",
    response_model=BulkSubmitted,
    responses=_SUBMIT_PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                importing.JSON_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/BulkSubmission"}},
                importing.CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                importing.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def submit_bulk(task_id: UUID, request: Request, uow: UoW, who: Submitter, rt: Rt) -> BulkSubmitted:
    """Submit many units' values at once — up to 100,000 — as JSON (``{"rows": [{"unit", "values"}]}``),
    CSV (UTF-8 or GB18030) or an Excel workbook (.xlsx), by ``Content-Type``.

    A file has a header row: ``unit`` (school code or county code) and one column per element code of the
    form; a blank cell is a blank value, each row its unit's whole form. Applied whole or not at all: the
    422 lists every bad cell as ``{row, column, reason}`` (a file's header is row 1; JSON rows count
    from 1)."""
    task = await service.get_task(uow, who, task_id)
    data = await request.body()
    parsed = await asyncio.to_thread(importing.read, request.headers.get("content-type", ""), data)
    done = await service.submit(uow, who, rt.divisions, task, parsed.rows, parsed.errors)
    return BulkSubmitted(
        units=done.units, values=done.values, created=done.created, resubmitted=done.resubmitted
    )


@router.get(
    "/v1/collection-tasks/{task_id}/submissions",
    response_model=SubmissionPage,
    responses=problems(service.TaskNotFound),
)
async def list_submissions(
    task_id: UUID,
    uow: UoW,
    who: Participant,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: SubmissionStatus | None = None,
    within: Within = None,
    updated_since: UpdatedSince = None,
) -> SubmissionPage:
    """The task's submissions you see (a school its own), by id; with ``updated_since``, by change time."""
    task = await service.get_task(uow, who, task_id)
    rows = await service.page_submissions(
        uow,
        who,
        task,
        after=decode_cursor(cursor),
        limit=limit,
        status=status,
        within=within,
        updated_since=updated_since,
    )
    return page_of(SubmissionPage, SubmissionRead, rows, limit)


@router.get(
    "/v1/submissions/{submission_id}",
    response_model=SubmissionDetail,
    responses=problems(service.SubmissionNotFound),
)
async def get_submission(
    submission_id: UUID, uow: UoW, who: CurrentPrincipal, response: Response
) -> SubmissionDetail:
    """A submission with its values and its reviews so far; 404 if it is not one you see."""
    submission = await service.get_submission(uow, who, submission_id)
    values, reviews = await service.submission_detail(uow, submission)
    response.headers["ETag"] = etag(submission.id, submission.version)
    return SubmissionDetail.model_validate(
        {**_submission(submission).model_dump(), "values": values, "reviews": reviews}
    )


@router.post(
    "/v1/submissions/{submission_id}/reviews",
    response_model=SubmissionRead,
    responses=problems(
        service.SubmissionNotFound,
        service.NotYourLevel,
        service.NotAReviewer,
        PreconditionFailed,
        PreconditionRequired,
    ),
)
async def review_submission(
    submission_id: UUID,
    body: ReviewCreate,
    uow: UoW,
    who: Office,
    rt: Rt,
    response: Response,
    if_match: IfMatch = None,
) -> SubmissionRead:
    """Approve the submission at your level (county, city, region), or return it with comments. Send
    ``If-Match``. The region's approval makes its values the approved ones."""
    submission = await service.review(uow, who, rt.divisions, submission_id, if_match, body)
    response.headers["ETag"] = etag(submission.id, submission.version)
    return _submission(submission)


@router.post(
    "/v1/collection-tasks/{task_id}/reviews",
    response_model=Reviewed,
    responses=problems(service.TaskNotFound, service.NotYourLevel, service.NotAReviewer),
)
async def review_submissions(
    task_id: UUID, body: BatchReviewCreate, uow: UoW, who: Office, rt: Rt
) -> Reviewed:
    """The same decision on many of the task's submissions awaiting your level: those named in
    ``submission_ids`` (all of them, or a 409 naming those that do not), or every one within your
    jurisdiction (under ``within``)."""
    task = await service.get_task(uow, who, task_id)
    level, count = await service.review_many(uow, who, rt.divisions, task, body)
    return Reviewed(level=level, decision=body.decision, submissions=count)
