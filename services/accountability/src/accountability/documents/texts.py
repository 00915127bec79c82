"""The wording of the documents, after items (九), (十二), (十三) and (十四) of the Guangxi opinions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from accountability.documents.models import AccountabilityForm, DecisionTarget, DocumentKind
from dudao.clock import BUSINESS_TZ

KIND_NAMES: dict[DocumentKind, str] = {
    DocumentKind.URGING_ORDER: "督办单",
    DocumentKind.INTERVIEW: "约谈通知",
    DocumentKind.CIRCULAR: "通报",
    DocumentKind.ACCOUNTABILITY_DECISION: "问责决定",
    DocumentKind.COMMENDATION: "表彰决定",
    DocumentKind.EVALUATION_RESULTS: "履行教育职责评价结果",
}
OPINIONS = "《关于深化新时代教育督导体制机制改革的实施意见》"
# Item (十三): what a circular recommends about the unit's leaders.
RECOMMENDATION = "建议对其领导班子成员不得评优评先、提拔使用或者转任重要职务。"
FORM_NAMES: dict[AccountabilityForm, str] = {
    AccountabilityForm.PUBLIC_CRITICISM: "公开批评",
    AccountabilityForm.INTERVIEW: "约谈",
    AccountabilityForm.CIRCULAR: "督导通报",
    AccountabilityForm.RESOURCE_ADJUSTMENT: "调整资源配置",
    AccountabilityForm.ADMINISTRATIVE_PENALTY: "行政处罚",
    AccountabilityForm.SELF_EXAMINATION: "责令检查",
    AccountabilityForm.CIRCULAR_OF_CRITICISM: "通报批评",
    AccountabilityForm.ORGANISATIONAL_HANDLING: "组织处理",
    AccountabilityForm.DISCIPLINARY_SANCTION: "处分",
    AccountabilityForm.TRANSFER_TO_ORGANS: "移送监察机关或司法机关依法处理",
}


SUPERVISION_OFFICE = "supervision_office"  # the unit_kind of an office addressed as a unit (督导室)
ORGANISATION_DEPARTMENT = "organisation_department"  # the unit_kind of a party committee's 组织部
GRADES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}
FILING_KINDS = {"work_plan": "年度工作计划", "major_matter": "重大事项", "supervision_results": "督导结果"}
SEASONS = {"spring": "春季", "autumn": "秋季"}


class Addressed(Protocol):
    """What a document says about whom it concerns."""

    @property
    def unit_kind(self) -> str: ...
    @property
    def unit_name(self) -> str: ...
    @property
    def competent_department(self) -> str | None: ...
    @property
    def grounds(self) -> str: ...


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def moment(t: datetime) -> str:
    local = t.astimezone(BUSINESS_TZ)
    return f"{day(local.date())}{local.hour:02d}:{local.minute:02d}"


def office_name(division_name: str) -> str:
    return f"{division_name}人民政府教育督导委员会办公室"


def office_id(division_code: str) -> str:
    """A supervision office as a recipient: ``office:450102``."""
    return f"office:{division_code}"


def organisation_department_id(division_code: str) -> str:
    """A party committee's organisation department as a recipient: ``organisation-department:450100``."""
    return f"organisation-department:{division_code}"


def semester(label: str) -> str:
    """``2026-autumn`` → 2026年秋季学期; a label of another shape as it is."""
    year, _, season = label.partition("-")
    return f"{year}年{SEASONS[season]}学期" if year.isdigit() and season in SEASONS else label


def party_committee(division_name: str) -> str:
    return f"中共{division_name}委员会"


def government(division_name: str) -> str:
    return f"{division_name}人民政府"


def discipline_organ(division_name: str) -> str:
    return f"{division_name}纪委监委"


def organisation_department(division_name: str) -> str:
    return f"{party_committee(division_name)}组织部"


def responsible_person(unit_name: str) -> str:
    return f"{unit_name}主要负责人"


def local_authorities(locality: str, competent_department: str | None) -> list[str]:
    """The unit's local party committee and government, and its superior department (items 十二, 十三)."""
    return [party_committee(locality), government(locality), *filter(None, [competent_department])]


def _deadline(new_deadline: date | None) -> str:
    if new_deadline is None:
        return "请立即整改"
    return f"请于{day(new_deadline)}前完成整改"


def urging_order(to: Addressed, office: str, new_deadline: date | None) -> tuple[str, str]:
    # A supervision office is copied to the office above it, which supervises it: no joint liability.
    liable = (
        f"\n{to.competent_department}作为主管部门，应督促指导其落实整改；整改不力的，承担连带责任。"
        if to.unit_kind != SUPERVISION_OFFICE
        else ""
    )
    copy = f"{liable}\n抄送：{to.competent_department}" if to.competent_department else ""
    body = (
        f"{to.unit_name}：\n{to.grounds}。根据{OPINIONS}第（九）项，现发出督办单，"
        f"{_deadline(new_deadline)}，并将整改情况书面报告本办。{copy}\n{office}"
    )
    return f"关于督促{to.unit_name}限期整改的督办单", body


def interview(
    to: Addressed,
    office: str,
    scheduled_at: datetime,
    place: str,
    participants: list[str],
    new_deadline: date | None,
) -> tuple[str, str]:
    body = (
        f"{to.unit_name}：\n{to.grounds}。根据{OPINIONS}第（十二）项，本办会同同级纪检监察机关、党委组织部门，"
        f"定于{moment(scheduled_at)}在{place}约谈你单位相关负责人。参加人员：{'、'.join(participants)}。"
        f"约谈将作出书面记录，报送你单位所在地党委和政府以及上级主管部门备案。{_deadline(new_deadline)}。\n{office}"
    )
    return f"关于约谈{to.unit_name}相关负责人的通知", body


def circular(to: Addressed, office: str, recipients: list[str], new_deadline: date | None) -> tuple[str, str]:
    body = (
        f"{'、'.join(recipients)}：\n{to.grounds}，经督办、约谈仍整改不力。根据{OPINIONS}第（十三）项，"
        f"现将{to.unit_name}的督导结果、工作表现和整改情况予以通报，{RECOMMENDATION}"
        f"{_deadline(new_deadline)}。\n{office}"
    )
    return f"关于{to.unit_name}整改不力情况的通报", body


def pending_decision(to: Addressed, office: str) -> tuple[str, str]:
    body = (
        f"{to.grounds}，经督办、约谈、通报仍整改不力。根据{OPINIONS}第（十四）项和《教育督导问责办法》，"
        f"拟对{to.unit_name}及相关负责人予以问责，待本办作出决定。\n{office}"
    )
    return f"关于对{to.unit_name}问责的决定（待定）", body


def decision(
    to: Addressed,
    office: str,
    target: DecisionTarget,
    form: AccountabilityForm,
    persons: list[dict[str, str]],
    reasons: str,
) -> tuple[str, str]:
    named = "、".join(f"{p['position']}{p['name']}" for p in persons)
    against = to.unit_name if target is DecisionTarget.BODY else f"{to.unit_name}{named}"
    body = (
        f"{to.grounds}。{reasons}\n根据《教育督导问责办法》，决定对{against}予以{FORM_NAMES[form]}。"
        f"责任人：{named}。问责和处理结果将向社会公布。\n{office}"
    )
    return f"关于对{to.unit_name}问责的决定", body


def commendation(to: Addressed, office: str) -> tuple[str, str]:
    body = (
        f"{to.unit_name}：\n{to.grounds}。根据{OPINIONS}第（二十一）项，现予以表彰，"
        f"评价结果作为对你单位领导班子和领导干部考核、奖惩的重要依据。希望你单位再接再厉，进一步履行好教育职责。\n{office}"
    )
    return f"关于表彰{to.unit_name}的决定", body


def evaluation_results(to: Addressed, office: str, results: Sequence[str]) -> tuple[str, str]:
    """A round's results for the organisation departments (item 二十一), one line per evaluated unit; the
    grounds are the round's title."""
    copy = f"\n抄送：{to.competent_department}" if to.competent_department else ""
    body = (
        f"{to.unit_name}：\n{to.grounds}已经公布。根据{OPINIONS}第（二十一）项，现将评价结果及整改情况通报如下，"
        f"请作为对被评价单位领导班子和领导干部进行考核、奖惩的重要依据：\n"
        + "\n".join(f"{n}. {line}" for n, line in enumerate(results, start=1))
        + f"{copy}\n{office}"
    )
    return f"关于{to.grounds}结果的通报", body


class Result(Protocol):
    """One line of a published round of duty evaluations."""

    @property
    def unit_name(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def grade(self) -> str: ...
    @property
    def open_rectifications(self) -> int: ...


def evaluation_result(r: Result) -> str:
    """One unit's line: its score, grade and rectification status, in words."""
    status = f"尚有{r.open_rectifications}项问题未完成整改" if r.open_rectifications else "问题已全部整改销号"
    return f"{r.unit_name}：{r.score:g}分，{GRADES.get(r.grade, r.grade)}；{status}"


def filing_reminder(office: str, year: int, kind: str, due_on: date) -> tuple[str, str]:
    """What a lower office is told when an item of upward filing (二二) is missing."""
    item = f"{year}年度{FILING_KINDS.get(kind, kind)}"
    body = (
        f"{office}：\n根据{OPINIONS}第（二）项，下级教育督导机构应向上级教育督导机构报告{item}。"
        f"你单位未在{day(due_on)}前报送，请尽快报送。"
    )
    return f"{item}报送提醒", body


class Concluded(Protocol):
    """What the texts say of a concluded duty evaluation."""

    @property
    def year(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def grade(self) -> str: ...
    @property
    def targets_missed(self) -> list[str]: ...


def duty_evaluation_failed(e: Concluded) -> str:
    """Why a duty evaluation triggers accountability: its grade, and the annual targets not met."""
    missed = f"，未完成年度目标：{'、'.join(e.targets_missed)}" if e.targets_missed else ""
    return (
        f"你单位在{e.year}年度履行教育职责评价中得分{e.score:g}分，评价等次为{GRADES.get(e.grade, e.grade)}"
        f"{missed}"
    )


def duty_evaluation_excellent(e: Concluded) -> str:
    return f"你单位在{e.year}年度履行教育职责评价中得分{e.score:g}分，评价等次为优秀"


def emergency_report_overdue(incident: str, opened_at: datetime, report_due_at: datetime) -> str:
    return (
        f"你单位于{moment(opened_at)}启动的“{incident}”重大教育突发事件督导，"
        f"应于{moment(report_due_at)}前报送首次督导报告，至今未报送"
    )
