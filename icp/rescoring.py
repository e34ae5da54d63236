"""Rescore a tenant's accounts in bulk: COPY accounts out, score them, COPY back what changed.

The loader reads accounts with `COPY (SELECT ...) TO STDOUT` in keyset chunks by id
and builds the frame `icp.scoring.accounts_frame` would build, restricted to the
columns the criteria read. PostgreSQL extracts the tech stack and the buying
triggers, and pandas applies the same text and number rules as `accounts_frame`.
Each chunk also carries the account's current fit, so the writer sends only the
rows whose score, tier or version changed. The writer COPYs them in binary into a
temporary table and applies them with one `UPDATE ... FROM` per chunk, each chunk
in its own short transaction.
"""

from __future__ import annotations

import io
import logging
import queue
import string
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.urls import reverse

from crm.amounts import amount_in_base_sql
from crm.models import Account, Deal
from icp.models import IcpVersion
from icp.scoring import (
    CATEGORY_FIELDS,
    NUMERIC_FIELDS,
    TECH_FIELD,
    criteria_need_deal_size,
    criterion_column,
    frame_trigger_names,
    score_frame,
    trigger_column,
)
from jobs.models import Job
from jobs.services import job_create, job_progress, job_start, job_succeed, job_supersede
from tenancy.queue import enqueue_on_commit
from tenancy.scope import tenant_scope

logger = logging.getLogger(__name__)

# Rows per chunk, and per write transaction. bench/icp_rescore.py peaked at 352 MiB
# for its whole Python process with this size on 1,000,000 accounts.
# NOTE: other sizes were not compared; --chunk-size on the benchmark measures them.
CHUNK_SIZE = 200_000
# The subject of a rescore job names the version it scores against.
JOB_SUBJECT = "icp_version:{pk}"

_FIT_TABLE = "icp_fit_rescore"
_ACCOUNT_TABLE = Account._meta.db_table
_DEAL_TABLE = Deal._meta.db_table
_VERSION_TABLE = IcpVersion._meta.db_table
# Every character str.strip() removes; PostgreSQL's btrim() gets the same set.
_WHITESPACE = "".join(character for character in map(chr, range(0x3001)) if character.isspace())
# Columns read besides the scoring columns: the fit the account has now.
_CURRENT_COLUMNS = ("current_score", "current_tier", "current_version")

# One row of a binary COPY into _FIT_TABLE: field count, then length and value of
# id (bigint), fit_score (smallint) and fit_tier (one ASCII byte), all big-endian.
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("id_length", ">i4"),
        ("id", ">i8"),
        ("score_length", ">i4"),
        ("score", ">i2"),
        ("tier_length", ">i4"),
        ("tier", "S1"),
    ]
)
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


@dataclass
class RescoreResult:
    """Outcome of one rescore run: accounts read and rewritten, and seconds per phase."""

    scanned: int = 0
    changed: int = 0
    superseded: bool = False
    seconds: float = 0.0
    # Seconds by phase: "copy_out", "parse", "score", "write".
    phases: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("copy_out", "parse", "score", "write"), 0.0)
    )


def job_subject(version_id: int) -> str:
    return JOB_SUBJECT.format(pk=version_id)


# Loading


def _tech_stack_sql(simple_path: bool) -> str:
    """Return the SQL expression of the "|a|b|" tech stack text of account `a`.

    The general path builds the text of icp.scoring.tech_text: items stripped, lower
    case, deduplicated, sorted by code point ("C" collation), "|" inside an item
    replaced by "/", and a JSON string split on "," and ";" like a CSV cell. With
    `simple_path`, a JSON list of ASCII items without edge spaces, quotes, backslashes
    or "|" is lower-cased and joined as stored, which is several times cheaper. Its
    items may then be unsorted or repeated, which changes no match unless a criterion
    value itself contains "|".
    """
    items = (
        "SELECT DISTINCT lower(btrim(item.value, %(whitespace)s)) AS value "
        "FROM {source} AS item(value)"
    )
    joined = (
        "(SELECT '|' || string_agg(replace(cleaned.value, '|', '/'), '|' "
        "ORDER BY cleaned.value COLLATE \"C\") || '|' "
        f"FROM ({items}) AS cleaned WHERE cleaned.value <> '')"
    )
    simple = (
        "WHEN a.tech_stack::text ~ %(simple_tech)s THEN '|' || lower("
        "replace(substr(a.tech_stack::text, 3, length(a.tech_stack::text) - 4), '\", \"', '|')"
        ") || '|' "
    )
    return (
        "CASE WHEN a.tech_stack = '[]'::jsonb THEN NULL "
        + (simple if simple_path else "")
        + "WHEN jsonb_typeof(a.tech_stack) = 'array' THEN "
        + joined.format(source="jsonb_array_elements_text(a.tech_stack)")
        + " WHEN jsonb_typeof(a.tech_stack) = 'string' THEN "
        + joined.format(
            source="regexp_split_to_table(replace(a.tech_stack #>> '{}', ',', ';'), ';')"
        )
        + " WHEN jsonb_typeof(a.tech_stack) = 'object' THEN "
        + joined.format(source="jsonb_object_keys(a.tech_stack)")
        + " END"
    )


# A JSON list as jsonb prints it, of items the simple tech stack path may join.
# The letters and digits are listed one by one, so no locale can widen a range.
_TECH_ASCII = string.ascii_letters + string.digits + "!#$%&'()*+,./:;<=>?@^_`{}~-"
_TECH_EDGE = f"[{_TECH_ASCII}]"
_TECH_INNER = f"[ {_TECH_ASCII}]"
_TECH_ITEM = f'"{_TECH_EDGE}(?:{_TECH_INNER}*{_TECH_EDGE})?"'
_SIMPLE_TECH_PATTERN = rf"^\[{_TECH_ITEM}(?:, {_TECH_ITEM})*\]$"
# Matches trigger objects with a key that normalise_trigger_name would change: one
# with a space, an upper-case ASCII letter, a control or a non-ASCII character.
_ODD_TRIGGER_KEYS = '$.keyvalue() ? (@.key like_regex "[^!-@[-~]")'


def _trigger_sql(position: int) -> str:
    """Return the SQL expression of the date text of trigger `%(trigger_<position>)s`.

    Keys are normalised as icp.scoring.normalise_trigger_name does, and of two keys
    that normalise to the same name the later in jsonb key order wins, as in the
    Python dict accounts_frame builds. Objects whose keys are all normalised already
    take the cheap `->>` path.
    """
    # NOTE: lower() replaces str.casefold() here, so a stored trigger name with a
    # letter the two fold differently (such as "ß") is not found by this loader.
    name = f"%(trigger_{position})s"
    return (
        "CASE WHEN jsonb_typeof(a.triggers) <> 'object' OR a.triggers = '{}'::jsonb THEN NULL "
        f"WHEN NOT jsonb_path_exists(a.triggers, %(odd_trigger_keys)s::jsonpath) "
        f"THEN a.triggers ->> {name} "
        "ELSE (SELECT entry.value "
        "FROM jsonb_each_text(a.triggers) WITH ORDINALITY AS entry(key, value, position) "
        f"WHERE replace(lower(btrim(entry.key, %(whitespace)s)), ' ', '_') = {name} "
        "ORDER BY entry.position DESC LIMIT 1) END"
    )


_DEAL_SIZE_SQL = (
    f"(SELECT max({amount_in_base_sql('deal')}) FROM {_DEAL_TABLE} AS deal "
    "WHERE deal.account_id = a.id AND deal.tenant_id = a.tenant_id "
    f"AND deal.stage IN ('{Deal.Stage.OPEN}', '{Deal.Stage.WON}'))"
)


@dataclass(frozen=True)
class _Plan:
    """The columns a set of criteria needs and the COPY statement that reads them."""

    categories: tuple[str, ...]
    numbers: tuple[str, ...]
    tech: bool
    triggers: tuple[str, ...]
    columns: tuple[str, ...]
    statement: str
    params: dict


def _plan(criteria: list[dict], by_ids: bool) -> _Plan:
    read = {criterion_column(criterion) for criterion in criteria}
    categories = tuple(name for name in CATEGORY_FIELDS if name in read)
    numbers = tuple(
        name
        for name in NUMERIC_FIELDS
        if name in read and (name != "deal_size" or criteria_need_deal_size(criteria))
    )
    tech = TECH_FIELD in read
    triggers = tuple(frame_trigger_names(criteria))

    columns = ["id", *_CURRENT_COLUMNS]
    expressions = ["a.id", "a.fit_score", "a.fit_tier", "a.fit_version_id"]
    params: dict = {"whitespace": _WHITESPACE}
    if triggers:
        params["odd_trigger_keys"] = _ODD_TRIGGER_KEYS
    for name in (*categories, *numbers):
        columns.append(name)
        expressions.append(_DEAL_SIZE_SQL if name == "deal_size" else f"a.{name}")
    if tech:
        # A criterion value with "|" could match across two items, so only the
        # general path, which sorts them, gives the same matches as tech_text.
        simple_path = not any(
            "|" in str(value)
            for criterion in criteria
            if criterion["kind"] == "tech_stack"
            for value in criterion["values"]
        )
        columns.append(TECH_FIELD)
        expressions.append(_tech_stack_sql(simple_path))
        params["simple_tech"] = _SIMPLE_TECH_PATTERN
    for position, name in enumerate(triggers):
        columns.append(trigger_column(name))
        params[f"trigger_{position}"] = name
        expressions.append(_trigger_sql(position))
    selection = "a.id = ANY(%(ids)s)" if by_ids else "TRUE"
    statement = (
        f"COPY (SELECT {', '.join(expressions)} FROM {_ACCOUNT_TABLE} AS a "
        f"WHERE a.tenant_id = %(tenant_id)s AND a.id > %(after_id)s AND {selection} "
        "ORDER BY a.id LIMIT %(limit)s) TO STDOUT (FORMAT csv)"
    )
    return _Plan(categories, numbers, tech, triggers, tuple(columns), statement, params)


def account_chunks(
    *, tenant_id: int, criteria: list[dict], account_ids=None, result: RescoreResult | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the tenant's accounts (all, or `account_ids`) as frames of at most CHUNK_SIZE rows.

    Each frame contains `id`, the columns of `icp.scoring.accounts_frame` that `criteria`
    read (with the same values), and `current_score`, `current_tier` and
    `current_version`: the fit stored now, NaN where there is none. Rows come in id
    order. `result.phases` collects the seconds spent in COPY and in parsing.
    """
    plan = _plan(criteria, by_ids=account_ids is not None)
    params = {**plan.params, "tenant_id": tenant_id, "limit": CHUNK_SIZE}
    if account_ids is not None:
        params["ids"] = sorted({int(pk) for pk in account_ids})
    phases = result.phases if result is not None else dict.fromkeys(("copy_out", "parse"), 0.0)
    after_id = 0
    while True:
        started = time.perf_counter()
        buffer = io.BytesIO()
        with transaction.atomic(), connection.cursor() as cursor:
            # PostgreSQL 15 spent about 0.5 s compiling this query per chunk with JIT,
            # more than its per-row expressions gain from it.
            cursor.execute("SET LOCAL jit = off")
            with cursor.cursor.copy(plan.statement, {**params, "after_id": after_id}) as copy:
                for data in copy:
                    buffer.write(data)
        copied = time.perf_counter()
        phases["copy_out"] += copied - started
        if buffer.tell() == 0:
            return
        buffer.seek(0)
        frame = _parse(buffer, plan)
        phases["parse"] += time.perf_counter() - copied
        yield frame
        if len(frame) < CHUNK_SIZE:
            return
        after_id = int(frame["id"].iloc[-1])


def _parse(buffer: io.BytesIO, plan: _Plan) -> pd.DataFrame:
    """Parse one chunk of COPY CSV output with the value rules of accounts_frame."""
    text_columns = (*plan.categories, *((TECH_FIELD,) if plan.tech else ()))
    dtypes = {
        "id": "int64",
        "current_score": "float64",
        "current_tier": object,
        "current_version": "float64",
        **dict.fromkeys(plan.numbers, "float64"),
        **dict.fromkeys(text_columns, object),
        **{trigger_column(name): object for name in plan.triggers},
    }
    # NULL is an empty field in CSV. A blank text is missing in the frame too, so
    # both may read as NaN.
    frame = pd.read_csv(
        buffer,
        header=None,
        names=list(plan.columns),
        dtype=dtypes,
        keep_default_na=False,
        na_values=[""],
    )
    for name in plan.categories:
        text = frame[name].astype("string").str.strip()
        frame[name] = text.mask(text == "")
    if plan.tech:
        # PostgreSQL lower-cased the items; casefold() also folds what lower() keeps.
        frame[TECH_FIELD] = frame[TECH_FIELD].astype("string").str.casefold()
    for name in plan.triggers:
        column = trigger_column(name)
        frame[column] = pd.to_datetime(frame[column], errors="coerce", format="ISO8601")
    return frame


# Writing


def _changed(frame: pd.DataFrame, scored: pd.DataFrame, version_id: int) -> np.ndarray:
    """Return a mask of the rows whose stored score, tier or version differs from `scored`."""
    scores = scored["score"].to_numpy()
    tiers = scored["tier"].to_numpy()
    current_score = frame["current_score"].to_numpy()
    same = (
        (current_score == scores)
        & (frame["current_tier"].to_numpy() == tiers)
        & (frame["current_version"].to_numpy() == version_id)
    )
    return ~same


def _copy_payload(ids: np.ndarray, scores: np.ndarray, tiers: np.ndarray) -> bytes:
    rows = np.empty(len(ids), dtype=_COPY_ROW)
    rows["fields"] = 3
    rows["id_length"] = 8
    rows["id"] = ids
    rows["score_length"] = 2
    rows["score"] = scores
    rows["tier_length"] = 1
    rows["tier"] = tiers.astype("S1")
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def fit_write(*, tenant_id: int, version_id: int, ids, scores, tiers) -> int:
    """Write the fit of the given accounts of the tenant and return the rows updated.

    Call it inside a transaction: the temporary table lives until the transaction
    ends and is emptied before each use. Rows whose fit is already equal are not
    updated, and ids of other tenants' accounts are ignored.
    """
    ids = np.asarray(ids, dtype="int64")
    if len(ids) == 0:
        return 0
    payload = _copy_payload(ids, np.asarray(scores, dtype="int16"), np.asarray(tiers))
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_FIT_TABLE} "
            "(id bigint NOT NULL, fit_score smallint NOT NULL, fit_tier varchar(1) NOT NULL) "
            "ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {_FIT_TABLE}")
        with cursor.cursor.copy(
            f"COPY {_FIT_TABLE} (id, fit_score, fit_tier) FROM STDIN (FORMAT binary)"
        ) as copy:
            copy.write(payload)
        # Without statistics the planner guesses the temporary table's size badly.
        cursor.execute(f"ANALYZE {_FIT_TABLE}")
        cursor.execute(
            f"UPDATE {_ACCOUNT_TABLE} AS account "
            "SET fit_score = fit.fit_score, fit_tier = fit.fit_tier, fit_version_id = %s "
            f"FROM {_FIT_TABLE} AS fit "
            "WHERE account.id = fit.id AND account.tenant_id = %s "
            "AND account.id BETWEEN %s AND %s "
            "AND (account.fit_score IS DISTINCT FROM fit.fit_score "
            "OR account.fit_tier IS DISTINCT FROM fit.fit_tier "
            "OR account.fit_version_id IS DISTINCT FROM %s)",
            [version_id, tenant_id, int(ids.min()), int(ids.max()), version_id],
        )
        return cursor.rowcount


def _version_active_locked(tenant_id: int, version_id: int) -> bool:
    """Lock the version row against activation until commit; return whether it is active.

    Activation locks every version row of the tenant FOR UPDATE, so it waits for a
    chunk that has this lock, and a chunk that starts after an activation reads the
    version's new status.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status FROM {_VERSION_TABLE} WHERE id = %s AND tenant_id = %s FOR SHARE",
            [version_id, tenant_id],
        )
        row = cursor.fetchone()
    return row is not None and row[0] == IcpVersion.Status.ACTIVE


# Services


def accounts_rescore_all(
    *, tenant, version: IcpVersion, job_id: int | None = None
) -> RescoreResult:
    """Score every account of the tenant against `version` and write the fits that changed.

    Each chunk commits on its own, so a run killed half way leaves whole chunks
    written, and running again finishes the work: unchanged rows are skipped. When
    `version` stops being the tenant's active version, the run stops before its next
    write and marks the job superseded. With `job_id`, progress goes to that job.
    """
    result = RescoreResult()
    started = time.perf_counter()
    today = tenant.today()
    with tenant_scope(tenant):
        total = Account.objects.count()
    logger.info(
        "icp.rescore_all.started tenant_id=%s icp_version_id=%s job_id=%s accounts=%s",
        tenant.pk,
        version.pk,
        job_id,
        total,
    )
    if job_id is not None:
        job_progress(
            job_id=job_id, tenant_id=tenant.pk, done=0, total=total, stage=_stage(0, total)
        )

    def scored_chunks() -> Iterator[_ScoredChunk]:
        return _scored_chunks(tenant_id=tenant.pk, version=version, today=today, result=result)

    # Outside a transaction a second thread reads and scores the next chunk while this
    # one writes. Inside one (the tests' transactions, a caller's atomic block) a
    # second connection could not see the uncommitted rows, so the chunks run in turn.
    read_ahead = not connection.in_atomic_block
    chunks = _read_ahead(scored_chunks) if read_ahead else scored_chunks()
    try:
        for chunk in chunks:
            written_at = time.perf_counter()
            with transaction.atomic():
                if not _version_active_locked(tenant.pk, version.pk):
                    result.superseded = True
                    break
                with connection.cursor() as cursor:
                    # A crash may lose the last chunks written this way. The job's final
                    # write commits synchronously, which flushes every earlier commit, so
                    # a job marked succeeded never reports rows that were lost.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                result.changed += fit_write(
                    tenant_id=tenant.pk,
                    version_id=version.pk,
                    ids=chunk.ids,
                    scores=chunk.scores,
                    tiers=chunk.tiers,
                )
            result.phases["write"] += time.perf_counter() - written_at
            result.scanned += chunk.rows
            if job_id is not None:
                done = min(result.scanned, total)
                job_progress(
                    job_id=job_id, tenant_id=tenant.pk, done=done, stage=_stage(done, total)
                )
    finally:
        chunks.close()

    result.seconds = time.perf_counter() - started
    if result.superseded:
        logger.info(
            "icp.rescore_all.superseded tenant_id=%s icp_version_id=%s job_id=%s scanned=%s",
            tenant.pk,
            version.pk,
            job_id,
            result.scanned,
        )
        if job_id is not None:
            job_supersede(
                job_id=job_id,
                tenant_id=tenant.pk,
                message=f"ICP version {version.number} is no longer active, so rescoring "
                "against it stopped. The job of the newer activation rescores the accounts.",
            )
        return result

    logger.info(
        "icp.rescore_all.finished tenant_id=%s icp_version_id=%s job_id=%s scanned=%s "
        "changed=%s seconds=%.2f",
        tenant.pk,
        version.pk,
        job_id,
        result.scanned,
        result.changed,
        result.seconds,
    )
    return result


@dataclass(frozen=True)
class _ScoredChunk:
    """The accounts of one chunk whose fit changed, and how many rows the chunk read."""

    ids: np.ndarray
    scores: np.ndarray
    tiers: np.ndarray
    rows: int


def _scored_chunks(
    *, tenant_id: int, version: IcpVersion, today, result: RescoreResult
) -> Iterator[_ScoredChunk]:
    """Read the tenant's accounts chunk by chunk, score them and keep the changed fits."""
    chunks = account_chunks(tenant_id=tenant_id, criteria=version.criteria, result=result)
    try:
        for frame in chunks:
            started = time.perf_counter()
            scored = score_frame(frame, version.criteria, version.tier_cutoffs, as_of=today)
            changed = _changed(frame, scored, version.pk)
            result.phases["score"] += time.perf_counter() - started
            yield _ScoredChunk(
                ids=frame["id"].to_numpy()[changed],
                scores=scored["score"].to_numpy()[changed],
                tiers=scored["tier"].to_numpy()[changed],
                rows=len(frame),
            )
    finally:
        chunks.close()


def _read_ahead(make_items: Callable[[], Iterator]) -> Generator:
    """Yield the items of `make_items()`, produced one item ahead in a second thread.

    The thread has its own database connection, which it closes when it ends, so
    reading the next chunk overlaps writing this one. An exception in the thread is
    raised here. Closing this generator early stops the thread after its current item.
    """
    items: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        source = make_items()
        try:
            for item in source:
                if not _put_unless_stopped(items, ("item", item), stop):
                    return
            _put_unless_stopped(items, ("done", None), stop)
        except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
            _put_unless_stopped(items, ("error", error), stop)
        finally:
            source.close()
            connection.close()

    thread = threading.Thread(target=produce, name="icp-rescore-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            try:
                kind, value = items.get(timeout=1)
            except queue.Empty:
                if thread.is_alive():
                    continue
                raise RuntimeError("The rescore read-ahead thread ended early.") from None
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _put_unless_stopped(items: queue.Queue, item, stop: threading.Event) -> bool:
    """Put `item` once there is room; return False when `stop` is set first."""
    while not stop.is_set():
        try:
            items.put(item, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False


def _stage(done: int, total: int) -> str:
    return f"Scoring accounts {done:,} of {total:,}"


def accounts_rescore_ids(*, tenant, version: IcpVersion, account_ids) -> int:
    """Score the given accounts of the tenant against `version`; return how many changed.

    Meant for small id sets inside a caller's transaction, such as a chunk of won
    deals: the write joins that transaction.
    """
    ids = list(account_ids)
    if not ids:
        return 0
    today = tenant.today()
    written = 0
    for frame in account_chunks(tenant_id=tenant.pk, criteria=version.criteria, account_ids=ids):
        scored = score_frame(frame, version.criteria, version.tier_cutoffs, as_of=today)
        changed = _changed(frame, scored, version.pk)
        with transaction.atomic():
            written += fit_write(
                tenant_id=tenant.pk,
                version_id=version.pk,
                ids=frame["id"].to_numpy()[changed],
                scores=scored["score"].to_numpy()[changed],
                tiers=scored["tier"].to_numpy()[changed],
            )
    return written


def rescore_job_create(*, tenant, version: IcpVersion, actor=None) -> Job:
    """Create a queued rescore job for `version`; rescore_job_run runs it."""
    return job_create(
        tenant=tenant, kind=Job.Kind.ICP_RESCORE, subject=job_subject(version.pk), actor=actor
    )


def rescore_job_enqueue(*, tenant, version: IcpVersion, actor=None) -> Job:
    """Create a rescore job for `version` and send its task when the transaction commits."""
    from icp.tasks import rescore_after_activation_task

    job = rescore_job_create(tenant=tenant, version=version, actor=actor)
    enqueue_on_commit(rescore_after_activation_task, tenant.pk, version.pk, job.pk)
    return job


def rescore_job_run(*, tenant, version_id: int, job_id: int) -> dict | None:
    """Run a rescore job: the accounts, then partner scores and partner roll-ups.

    Returns the job's result, or None when the job was already finished, its version
    is gone or no longer active (the job is then superseded). Errors propagate, and
    the caller marks the job failed.
    """
    from partners.services import partner_scores_refresh
    from reporting.services import partner_rollups_refresh

    if not job_start(job_id=job_id, tenant_id=tenant.pk, stage="Scoring accounts"):
        return None
    with tenant_scope(tenant):
        version = IcpVersion.objects.filter(pk=version_id).first()
    if version is None or version.status != IcpVersion.Status.ACTIVE:
        job_supersede(
            job_id=job_id,
            tenant_id=tenant.pk,
            message=f"ICP version {version_id} is no longer active, so nothing was rescored.",
        )
        logger.info(
            "icp.rescore_job.skipped tenant_id=%s icp_version_id=%s job_id=%s reason=not_active",
            tenant.pk,
            version_id,
            job_id,
        )
        return None

    started = time.perf_counter()
    accounts = accounts_rescore_all(tenant=tenant, version=version, job_id=job_id)
    if accounts.superseded:
        return None
    total = accounts.scanned
    job_progress(job_id=job_id, tenant_id=tenant.pk, done=total, stage="Rescoring partners")
    with tenant_scope(tenant):
        partners = partner_scores_refresh(tenant=tenant)
        job_progress(job_id=job_id, tenant_id=tenant.pk, done=total, stage="Refreshing roll-ups")
        with transaction.atomic():
            partner_rollups_refresh()

    result = {
        "accounts_scanned": accounts.scanned,
        "accounts_changed": accounts.changed,
        "partners": partners,
        "seconds": round(time.perf_counter() - started, 2),
        "account_phases": {name: round(value, 2) for name, value in accounts.phases.items()},
    }
    job_succeed(
        job_id=job_id,
        tenant_id=tenant.pk,
        message=f"Rescored {accounts.scanned:,} accounts against ICP version {version.number}: "
        f"{accounts.changed:,} got a new score, tier or version. Rescored {partners:,} partners.",
        result=result,
        target_url=reverse("icp:version_detail", args=[version.pk]),
    )
    return result


def version_rescore_now(*, tenant, version: IcpVersion) -> dict | None:
    """Run the version's latest unfinished rescore job in this process and return its result.

    For commands and the demo loader, which need the new scores before they go on.
    The queued task of the same job then finds it finished and skips it. Returns
    None when there is no unfinished job, for example because an eager task ran it.
    """
    from jobs.selectors import job_latest

    job = job_latest(tenant=tenant, kind=Job.Kind.ICP_RESCORE, subject=job_subject(version.pk))
    if job is None or job.finished:
        return None
    return rescore_job_run(tenant=tenant, version_id=version.pk, job_id=job.pk)
