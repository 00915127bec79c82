"""The double-random draw (双随机): which schools and which inspectors, from a revealed seed.

This file needs nothing but Python's standard library. Anyone can copy it and re-run a draw:
``python algorithm.py draw.json``, where draw.json is the draw as ``GET /v1/draws/{id}`` returns it
after the reveal. The result must equal the draw's ``drawn_school_ids`` and ``drawn_inspector_ids``.

Commit. Before the draw the supervision office picks a secret seed, a string of at least 32 characters
(for example ``python -c "import secrets; print(secrets.token_hex(32))"``), and gives only its hash,
``seed_hash`` = SHA-256 of the seed's UTF-8 bytes, in lowercase hex. At that moment the platform freezes
the inputs and publishes them with the hash:
  * ``school_pool``: the candidate schools' ids, sorted as lowercase canonical UUID strings;
  * ``inspector_pool``: the candidate inspectors' ids, sorted the same way;
  * ``excluded_pairs``: [inspector id, school id] pairs that must never be drawn together (回避);
  * ``nonce``: 32 hex characters the platform chose at random when the office committed. The office did
    not know it when it chose the seed, so it could not try seeds until one gave a draw it liked;
  * ``school_count`` (N) and ``inspector_count`` (M).

Reveal. The office gives the seed; the platform refuses it unless SHA-256(seed) equals ``seed_hash``.

Random numbers. Block k (k = 0, 1, 2, …) is HMAC-SHA256 with the seed's UTF-8 bytes as key and the
ASCII text ``<nonce>:<k>`` (k in decimal) as message, read as a 256-bit big-endian unsigned integer.
``below(n)`` takes the next block x until x < n·⌊2²⁵⁶/n⌋ and returns x mod n, so each of 0 … n−1 is
equally likely.

Schools. A partial Fisher–Yates shuffle of the sorted school pool: for i = 0 … N−1, j = i + below(L − i)
where L is the pool's length, and the entries at i and j swap places. The drawn schools are the first N
entries, in the order drawn.

Inspectors. Every inspector with an excluded pair against any drawn school leaves the pool (the order of
the others is kept); the same partial Fisher–Yates, continuing the same k, draws M of those who remain.
If fewer than M remain, the draw is void: no team could be formed without a recused inspector.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_SEED_LENGTH = 32
_SPACE = 1 << 256


def seed_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


class _Stream:
    """Uniform integers from HMAC-SHA256(seed, "<nonce>:<k>") blocks."""

    def __init__(self, seed: str, nonce: str) -> None:
        self._key = seed.encode("utf-8")
        self._nonce = nonce
        self._k = 0

    def _block(self) -> int:
        message = f"{self._nonce}:{self._k}".encode("ascii")
        self._k += 1
        return int.from_bytes(hmac.new(self._key, message, hashlib.sha256).digest(), "big")

    def below(self, n: int) -> int:
        limit = n * (_SPACE // n)
        while True:
            x = self._block()
            if x < limit:
                return x % n


def _take(stream: _Stream, pool: Sequence[str], count: int) -> list[str]:
    entries = list(pool)
    for i in range(count):
        j = i + stream.below(len(entries) - i)
        entries[i], entries[j] = entries[j], entries[i]
    return entries[:count]


@dataclass(frozen=True)
class Outcome:
    schools: list[str]
    inspectors: list[str]
    void_reason: str | None = None


def draw(
    seed: str,
    nonce: str,
    school_pool: Iterable[str],
    inspector_pool: Iterable[str],
    excluded_pairs: Iterable[Sequence[str]],
    school_count: int,
    inspector_count: int,
) -> Outcome:
    """The draw the seed determines; the pools are sorted here, so their given order does not matter."""
    schools = sorted({s.lower() for s in school_pool})
    inspectors = sorted({i.lower() for i in inspector_pool})
    if not 0 < school_count <= len(schools) or not 0 < inspector_count <= len(inspectors):
        raise ValueError("cannot draw more than a pool holds, or nothing")
    stream = _Stream(seed, nonce)
    drawn_schools = _take(stream, schools, school_count)
    chosen = set(drawn_schools)
    recused = {inspector.lower() for inspector, school in excluded_pairs if school.lower() in chosen}
    eligible = [i for i in inspectors if i not in recused]
    if len(eligible) < inspector_count:
        return Outcome(
            drawn_schools,
            [],
            f"{len(eligible)} inspectors have no conflict with the drawn schools; {inspector_count} needed",
        )
    return Outcome(drawn_schools, _take(stream, eligible, inspector_count))


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    seed = record["seed"]
    if seed is None or seed_hash(seed) != record["seed_hash"]:
        print("the seed is missing or does not match seed_hash")
        return 1
    outcome = draw(
        seed,
        record["nonce"],
        record["school_pool"],
        record["inspector_pool"],
        record["excluded_pairs"],
        record["school_count"],
        record["inspector_count"],
    )
    print(json.dumps({"schools": outcome.schools, "inspectors": outcome.inspectors}, indent=2))
    same = (
        outcome.schools == record["drawn_school_ids"] and outcome.inspectors == record["drawn_inspector_ids"]
    )
    print("matches the published draw" if same else "DIFFERS from the published draw")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
