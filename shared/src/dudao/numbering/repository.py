"""Every query of the numbering capability: the sequences and the issuing offices."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ARRAY, Integer, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dudao.numbering.models import ISSUING_OFFICES, SEQUENCES, IssuingOffice

# A document number's series: its office's division, kind and year.
SeriesKey = tuple[str, str, int]


async def reserve_serials(
    session: AsyncSession, wanted: Mapping[SeriesKey, int]
) -> dict[SeriesKey, tuple[int, str | None]]:
    """Reserve ``wanted[key]`` serials per series in one statement: for each key the last serial reserved
    (the batch numbers ``last - n + 1 … last``) and the office's recorded abbreviation, if any.

    The upsert locks each sequence row until the transaction ends: concurrent issuers queue behind it, in
    the order of the keys (so two batches never wait for each other crosswise), and a transaction that
    rolls back takes its increments with it, so the numbers have no gaps.
    """
    keys = sorted(wanted)
    source = (
        func.unnest(
            bindparam("offices", [k[0] for k in keys], type_=ARRAY(String)),
            bindparam("kinds", [k[1] for k in keys], type_=ARRAY(String)),
            bindparam("years", [k[2] for k in keys], type_=ARRAY(Integer)),
            bindparam("counts", [wanted[k] for k in keys], type_=ARRAY(Integer)),
        )
        .table_valued("office_division", "kind", "year", "n")
        .render_derived(name="wanted")
    )
    sequence = SEQUENCES
    upsert = insert(sequence).from_select(
        ["office_division", "kind", "year", "last_serial"],
        select(source.c.office_division, source.c.kind, source.c.year, source.c.n).order_by(
            source.c.office_division, source.c.kind, source.c.year
        ),
    )
    reserved = (
        upsert.on_conflict_do_update(
            index_elements=[sequence.c.office_division, sequence.c.kind, sequence.c.year],
            set_={"last_serial": sequence.c.last_serial + upsert.excluded.last_serial},
        )
        .returning(sequence.c.office_division, sequence.c.kind, sequence.c.year, sequence.c.last_serial)
        .cte("reserved")
    )
    office = ISSUING_OFFICES
    stmt = select(reserved, office.c.abbreviation).outerjoin(
        office, office.c.division_code == reserved.c.office_division
    )
    return {
        (row.office_division, row.kind, row.year): (row.last_serial, row.abbreviation)
        for row in await session.execute(stmt)
    }


async def issuing_office(session: AsyncSession, division_code: str) -> IssuingOffice | None:
    return await session.get(IssuingOffice, division_code)
