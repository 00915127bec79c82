"""The escalation loop across services, as an app drives it: a finding at a school is not rectified in
time, accountability escalates step by step, and the accepted report closes the case."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import httpx
import pytest

from dudao.dev.demo import Loop
from tests.conftest import TokenFactory, bearer
from tests.e2e.conftest import Suite, eventually

pytestmark = pytest.mark.e2e
COUNTY, OTHER_COUNTY = "450102", "450103"  # 兴宁区, 青秀区 of Nanning


async def test_an_unrectified_finding_escalates_until_its_report_is_accepted(
    suite: Suite, token: TokenFactory
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        loop = Loop(suite.urls, client, token)
        opened = await loop.raise_finding()

        # 1. The deadline passes: an urging order (督办单) with a new deadline, shown in school-inspection.
        await loop.advance(days=opened["deadline_days"] + 1)
        case = await loop.steps_reach(1)
        urging = case["steps"][0]
        assert urging["kind"] == "urging_order"
        assert urging["reason"] == "overdue"
        assert urging["document_number"].startswith("兴教督办〔")
        assert urging["document_number"].endswith("号")
        await loop.deadline_moves_to(urging["new_deadline"], "urging_order")

        # 2. Accountability crashes; the deadline passes again while it is down; nothing is lost.
        suite.kill("accountability-worker")
        await loop.advance(days=16)

        async def overdue_again() -> bool:
            return bool((await loop.rectification())["overdue"])

        await eventually(overdue_again, within=20, interval=0.25)
        suite.start_worker("accountability")
        case = await loop.steps_reach(2)
        interview = case["steps"][1]
        assert interview["kind"] == "interview"
        await loop.deadline_moves_to(interview["new_deadline"], "interview")

        # 3. Again: a circular (通报).
        await loop.advance(days=11)
        case = await loop.steps_reach(3)
        assert case["steps"][2]["kind"] == "circular"
        await loop.deadline_moves_to(case["steps"][2]["new_deadline"], "circular")

        # 4. The school reports, the inspector accepts (销号): the case closes.
        url = suite.url("school-inspection", f"/v1/rectifications/{loop.rectification_id}")
        await loop.report_and_accept()

        case = await loop.case_closed()
        assert [s["kind"] for s in case["steps"]] == ["urging_order", "interview", "circular"]
        numbers = [d["number"] for d in case["documents"]]
        assert len(set(numbers)) == 3

        # The same overdue facts delivered again escalate nothing.
        replay = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "dudao.cli",
                "events",
                "replay",
                "--schema",
                "inspection",
                "--type",
                "dudao.school-inspection.rectification.overdue.v1",
            ],
            env={**os.environ, **suite.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert replay.returncode == 0, replay.stderr
        republished = re.search(r"(\d+) events republished", replay.stdout)
        assert republished is not None, replay.stdout
        assert int(republished.group(1)) >= 3
        await asyncio.sleep(3)  # time for the replayed events to reach accountability (and change nothing)
        assert len((await loop.case() or {})["steps"]) == 3

        # Another county's official sees none of it.
        outsider = bearer(token("supervision_office", division=OTHER_COUNTY))
        assert (await client.get(url, headers=outsider)).status_code == 404
        assert await loop.case(headers=outsider) is None
        assert (
            await client.get(suite.url("accountability", f"/v1/cases/{case['id']}"), headers=outsider)
        ).status_code == 404
        documents = (
            await client.get(
                suite.url("accountability", "/v1/documents"), headers=outsider, params={"limit": 500}
            )
        ).json()
        assert not set(numbers) & {d["number"] for d in documents["items"]}
        for document in case["documents"]:
            assert (
                await client.get(
                    suite.url("accountability", f"/v1/documents/{document['id']}"), headers=outsider
                )
            ).status_code == 404

        # The school and its competent department were notified of each step.
        inbox = (
            await client.get(
                suite.url("accountability", "/v1/notifications"),
                headers=loop.school,
                params={"recipient_id": loop.school_code, "limit": 100},
            )
        ).json()
        assert len(inbox["items"]) >= 3
