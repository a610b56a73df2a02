"""The `creatorlens` command line: generate, ingest, import, keys, quarantine, report, serve,
tokens, demo."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from creatorlens.errors import UserError
from creatorlens.query.model import QueryError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Privacy-first creator analytics for short-video platforms.",
)
keys_app = typer.Typer(help="Pseudonym keys: rotate, list, destroy.", no_args_is_help=True)
import_app = typer.Typer(help="Import public research data sets.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens of the HTTP service: create, list, revoke.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(tokens_app, name="tokens")

console = Console()
err = Console(stderr=True)

DbOption = Annotated[Path, typer.Option("--db", help="The store file (DuckDB).")]
KeysOption = Annotated[
    Path | None, typer.Option("--keys", help="Pseudonym key file (default: <db>.keys).")
]
LakeOption = Annotated[
    Path | None, typer.Option("--lake", help="The event lake: a folder of Delta tables.")
]


@contextmanager
def _progress_bar() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        yield bar


def _stage_progress(bar: Progress, prefix: str) -> Callable[[str, int, int], None]:
    """A progress callback that shows one bar per stage, labelled `prefix stage`."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"{prefix} {stage}", total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report


def _ingest_with_progress(
    db: Path,
    paths: list[Path],
    keys: Path | None,
    entity: str | None,
    batch_rows: int = 750_000,
    rollups: bool = True,
    view_threshold_ms: int | None = None,
):
    from creatorlens.load import ingest_into

    threshold = {} if view_threshold_ms is None else {"view_threshold_ms": view_threshold_ms}

    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(source, done: int, total: int | None) -> None:
            if source.name not in tasks:
                label = f"ingest {source.entity:8} {source.path.name}"
                tasks[source.name] = bar.add_task(label, total=total)
            bar.update(tasks[source.name], completed=done, total=max(total or 0, done))

        return ingest_into(
            db,
            paths,
            keys=keys,
            entity=entity,
            batch_rows=batch_rows,
            progress=progress,
            refresh=rollups,
            rollup_progress=_stage_progress(bar, "rollup"),
            **threshold,
        )


def _print_ingest_summary(summary) -> None:
    table = Table(title="Ingest summary", show_header=False)
    table.add_row("records read", f"{summary.records:,}")
    table.add_row("accepted", f"{summary.accepted:,}")
    table.add_row("duplicates (already stored)", f"{summary.duplicates:,}")
    table.add_row("quarantined", f"{summary.quarantined:,}")
    console.print(table)
    if summary.reasons:
        reasons = Table(title="Quarantined by reason")
        reasons.add_column("field")
        reasons.add_column("reason")
        reasons.add_column("records", justify="right")
        for (field, reason), n in summary.reasons.most_common():
            reasons.add_row(field, reason, f"{n:,}")
        console.print(reasons)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")],
    creators: Annotated[int, typer.Option(min=1)] = 200,
    viewers: Annotated[int, typer.Option(min=1)] = 20_000,
    days: Annotated[int, typer.Option(min=1)] = 28,
    seed: int = 7,
    events: Annotated[int | None, typer.Option(min=1, help="Target number of events.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="ndjson, csv or parquet")] = "ndjson",
) -> None:
    """Write a realistic synthetic platform: accounts, videos and events."""
    if fmt not in ("ndjson", "csv", "parquet"):
        raise UserError(f"--format must be ndjson, csv or parquet, not {fmt!r}")
    platform = _generate(out, creators, viewers, days, seed, events, fmt)
    console.print(
        f"wrote {platform.n_accounts:,} accounts, {platform.n_videos:,} videos, "
        f"{platform.n_events:,} events to {out}"
    )


def _generate(out, creators, viewers, days, seed, events, fmt):
    from creatorlens.generate import generate_platform, prepare_output

    # The arguments and the output directory are checked before a progress bar opens.
    prepare_output(
        out, creators=creators, viewers=viewers, days=days, seed=seed, events=events, fmt=fmt
    )
    with _progress_bar() as bar:
        return generate_platform(
            out,
            creators=creators,
            viewers=viewers,
            days=days,
            seed=seed,
            events=events,
            fmt=fmt,
            progress=_stage_progress(bar, "generate"),
        )


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="NDJSON, CSV or Parquet files, or directories of them.")
    ],
    db: Annotated[
        Path | None,
        typer.Option("--db", help="The store file (DuckDB); with --lake, its ingest state."),
    ] = None,
    keys: KeysOption = None,
    entity: Annotated[
        str | None, typer.Option(help="accounts, videos or events (default: detect).")
    ] = None,
    batch_rows: Annotated[int, typer.Option(min=1, hidden=True)] = 750_000,
    rollups: Annotated[
        bool, typer.Option(help="Refresh the rollups afterwards (dashboards read them).")
    ] = True,
    lake: LakeOption = None,
) -> None:
    """Validate, pseudonymize and store platform files, exactly once (with --lake, into
    the event lake too)."""
    if lake is not None:
        _ingest_to_lake(db, paths, lake, keys, entity, batch_rows)
        return
    if db is None:
        raise UserError("give --db (the store file), or --lake")
    _print_ingest_summary(_ingest_with_progress(db, paths, keys, entity, batch_rows, rollups))


@app.command()
def refresh(
    db: DbOption,
    keys: KeysOption = None,
    policy: Annotated[
        Path | None, typer.Option(help="Privacy policy TOML (its view_threshold_ms).")
    ] = None,
) -> None:
    """Bring the rollups up to date with everything ingested (idempotent)."""
    from creatorlens.privacy import load_policy

    if not db.is_file():
        raise UserError(f"{db}: no such store")
    threshold = load_policy(policy).view_threshold_ms if policy else None
    summary = _ingest_with_progress(db, [], keys, None, view_threshold_ms=threshold)
    rollups = summary.rollups
    console.print(f"rollups {rollups.mode}: {rollups.reason} ({rollups.seconds:.1f} s)")


@app.command()
def quarantine(
    db: DbOption,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """List records that ingest refused, with the field and the reason."""
    from creatorlens.ingest import quarantined

    records = quarantined(db, limit)
    table = Table(title=f"Quarantined records (first {limit})")
    for col in ("entity", "source", "record", "event_id", "type", "field", "reason"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r.entity,
            Path(r.source).name,
            str(r.record_no),
            r.event_id or "",
            r.type or "",
            r.field,
            r.reason,
        )
    console.print(table if records else "no quarantined records")


@import_app.command("kuairand")
def import_kuairand(
    log: Annotated[Path, typer.Argument(help="KuaiRand log CSV (or the processed TSV).")],
    db: DbOption,
    videos: Annotated[Path | None, typer.Option(help="video_features_basic*.csv")] = None,
    users: Annotated[Path | None, typer.Option(help="user_features*.csv")] = None,
    keys: KeysOption = None,
) -> None:
    """Convert a KuaiRand log into creatorlens events and ingest them."""
    from creatorlens.importers.kuairand import convert_kuairand

    for path in (log, videos, users):
        if path is not None and path.is_dir():
            raise UserError(f"{path}: is a directory, not a file")
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="creatorlens-kuairand-") as tmp:
        files = convert_kuairand(log, Path(tmp), videos=videos, users=users)
        if files.n_log_rows == files.n_skipped_rows:
            raise UserError(
                f"{log}: no exposure rows to import"
                + (
                    f" ({files.n_skipped_rows:,} lack user_id, video_id or time_ms)"
                    if files.n_skipped_rows
                    else " (only a header line)"
                )
            )
        summary = _ingest_with_progress(
            db, [files.accounts, files.videos, files.events], keys, None
        )
    _print_ingest_summary(summary)


@keys_app.command("rotate")
def keys_rotate(db: DbOption, keys: KeysOption = None) -> None:
    """Retire the active pseudonym key and start a new one."""
    from creatorlens.ingest import key_ring

    key = key_ring(db, keys).rotate()
    console.print(f"new active key {key.key_id}")


@keys_app.command("list")
def keys_list(db: DbOption, keys: KeysOption = None) -> None:
    """List the pseudonym keys and their state."""
    from creatorlens.ingest import key_ring

    table = Table(title="Pseudonym keys")
    for col in ("key", "created", "retired", "destroyed", "state"):
        table.add_column(col)
    for k in key_ring(db, keys).keys:
        state = "active" if k.active else ("destroyed" if k.secret is None else "retired")
        table.add_row(k.key_id, k.created_at, k.retired_at or "", k.destroyed_at or "", state)
    console.print(table)


@keys_app.command("destroy")
def keys_destroy(
    key_id: Annotated[str, typer.Argument(help="A retired key's id.")],
    db: DbOption,
    keys: KeysOption = None,
) -> None:
    """Erase a retired key: its pseudonyms can never be linked back to anyone."""
    from creatorlens.ingest import key_ring

    key = key_ring(db, keys).destroy(key_id)
    console.print(f"key {key.key_id} destroyed at {key.destroyed_at}")


@app.command()
def report(
    db: DbOption,
    creator: Annotated[str, typer.Option("--creator", help="A creator or business account.")],
    period: Annotated[str | None, typer.Option(help="7d, 28d, 60d or 365d")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD")] = None,
    compare: Annotated[bool, typer.Option(help="Compare with the previous period.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Privacy policy TOML.")] = None,
    keys: KeysOption = None,
) -> None:
    """A creator's analytics report (TikTok-Studio-like), or the same result as JSON."""
    _report(db, creator, period, start, end, compare, as_json, policy, keys)


def _report(db, creator, period, start, end, compare, as_json, policy, keys) -> None:
    import json

    from creatorlens.report.terminal import render
    from creatorlens.studio import open_studio

    if period is not None and (start or end):
        raise UserError("give either --period or --from/--to, not both")
    with open_studio(db, creator, policy=policy, keys=keys) as studio:
        chosen = studio.period(period, start, end)
        dashboard = studio.dashboard(chosen, compare=compare, detail_videos=3)
    if as_json:
        print(json.dumps(dashboard.to_json(), indent=2, default=str))
    else:
        render(dashboard, console)


@app.command()
def insights(
    db: DbOption,
    creator: Annotated[str, typer.Option("--creator", help="A creator or business account.")],
    period: Annotated[str | None, typer.Option(help="7d, 28d, 60d or 365d")] = "28d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    policy: Annotated[Path | None, typer.Option(help="Privacy policy TOML.")] = None,
    keys: KeysOption = None,
) -> None:
    """What a creator acts on: best times, what works, trending, sentiment, virality,
    the niche benchmark and the creator fund (issue 18)."""
    _insights(db, creator, period, as_json, policy, keys)


def _insights(db, creator, period, as_json, policy, keys, short: bool = False) -> None:
    import json

    from creatorlens.insights import creator_insights
    from creatorlens.report.terminal import render_insights
    from creatorlens.studio import open_studio

    with open_studio(db, creator, policy=policy, keys=keys) as studio:
        found = creator_insights(studio, studio.period(period))
    if as_json:
        print(json.dumps(found.to_json(), indent=2, default=str))
        return
    render_insights(found, console, short=short)


@app.command()
def creators(
    db: DbOption,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
) -> None:
    """List the creator and business accounts (id, videos, followers), most viewed first."""
    from creatorlens.privacy import PublicCard
    from creatorlens.studio import platform_creators

    cards = platform_creators(db, limit, PublicCard())
    table = Table(title=f"Creators in {db} ({len(cards):,})")
    table.add_column("creator")
    for col in ("videos", "followers", "views (all time)"):
        table.add_column(col, justify="right")
    for c in cards:
        table.add_row(c.creator_id, f"{c.videos:,}", f"{c.followers:,}", f"{c.views:,}")
    console.print(table if cards else f"no creator or business accounts in {db}")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo platform and store go.")] = Path(
        "creatorlens-demo"
    ),
    creators: Annotated[int, typer.Option(min=1)] = 200,
    viewers: Annotated[int, typer.Option(min=1)] = 20_000,
    # Eight weeks, so the report's last 28 days have a full previous period to compare with.
    days: Annotated[int, typer.Option(min=1)] = 56,
    seed: int = 7,
    events: Annotated[int | None, typer.Option(min=1)] = 1_000_000,
    top: Annotated[int, typer.Option(min=1)] = 5,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="End by serving the store over HTTP (default: when stdout is a terminal).",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (busy: a free one).")] = 8000,
) -> None:
    """Generate a platform (~1M events), ingest it, report on the top creator, serve it."""
    from creatorlens.studio import platform_creators

    platform_dir = workdir / "platform"
    db = workdir / "store.duckdb"
    platform = _generate(platform_dir, creators, viewers, days, seed, events, "ndjson")
    console.print(f"generated {platform.n_events:,} events in {platform_dir}")
    summary = _ingest_with_progress(
        db, [platform.accounts, platform.videos, platform.events], None, None
    )
    _print_ingest_summary(summary)
    cards = platform_creators(db, top)
    table = Table(title=f"Top {len(cards)} creators by views (all time)")
    table.add_column("")
    for c in cards:
        table.add_column(c.creator_id, justify="right")
    rows = {
        "videos": lambda c: f"{c.videos:,}",
        "views (≥3 s)": lambda c: f"{c.views:,}",
        "plays": lambda c: f"{c.plays:,}",
        "reach": lambda c: f"{c.reach:,}",
        "watch hours": lambda c: f"{c.total_watch_ms / 3_600_000:,.0f}",
        "likes (net)": lambda c: f"{c.likes:,}",
        "comments": lambda c: f"{c.comments:,}",
        "shares": lambda c: f"{c.shares:,}",
        "saves": lambda c: f"{c.saves:,}",
        "profile views": lambda c: f"{c.profile_views:,}",
        "followers +": lambda c: f"{c.followers_gained:,}",
        "followers −": lambda c: f"{c.followers_lost:,}",
    }
    for label, cell in rows.items():
        table.add_row(label, *(cell(c) for c in cards))
    console.print(table)
    if cards:
        console.print(f"\n[b]Report for the top creator, {cards[0].creator_id}[/b]")
        _report(db, cards[0].creator_id, "28d", None, None, True, False, None, None)
        console.print(f"\n[b]Insights for {cards[0].creator_id}[/b]")
        _insights(db, cards[0].creator_id, "28d", False, None, None, short=True)
        _demo_live(db, [c.creator_id for c in cards])
    _next_steps(db, cards[0].creator_id if cards else None)
    if serve if serve is not None else sys.stdout.isatty():
        _demo_serve(db, cards[0].creator_id if cards else None, host, port)


def _demo_serve(db: Path, creator: str | None, host: str, port: int) -> None:
    """Serve the demo store on loopback with a ready creator token for its top creator."""
    from datetime import timedelta

    from creatorlens.load import token_book
    from creatorlens.serve import ServiceConfig, check_port, run

    try:
        check_port(host, port)
    except UserError:
        port = _free_port(host)
    address = f"http://{host}:{port}"
    console.print(f"\n[b]Serving[/b] {db} on {address} (Ctrl-C to stop)", highlight=False)
    if creator:
        _, secret = token_book(db).create(
            "creator", creator_id=creator, name="demo", expires_in=timedelta(days=30)
        )
        print(f"creator token for {creator} (valid 30 days):\n  {secret}")
        # In the fragment, which the browser never sends: the page posts it to sign in.
        print(f"  dashboard, signed in: {address}/signin#token={secret}")
        print(
            f"  curl -H 'Authorization: Bearer {secret}' "
            f"'{address}/v1/creators/{creator}/overview?period=7d'"
        )
    sys.stdout.flush()
    run(ServiceConfig(db=db), host=host, port=port)


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@app.command()
def serve(
    db: DbOption,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    keys: KeysOption = None,
    policy: Annotated[Path | None, typer.Option(help="Privacy policy TOML.")] = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="Largest request body (on the wire, and gunzipped).")
    ] = 16 * 1024 * 1024,
    max_records: Annotated[int, typer.Option(min=1, help="Most records in one request.")] = 100_000,
    ingest_rate: Annotated[
        float, typer.Option(min=0, help="Requests a second per ingest key (0: no limit).")
    ] = 1_000.0,
    creator_rate: Annotated[
        float, typer.Option(min=0, help="Requests a second per creator token (0: no limit).")
    ] = 50.0,
    refresh_every: Annotated[
        float, typer.Option(min=0.05, help="Seconds between rollup refreshes under load.")
    ] = 1.0,
    group_records: Annotated[int, typer.Option(min=1, hidden=True)] = 50_000,
    lake: Annotated[
        Path | None,
        typer.Option("--lake", help="Also append the stored events to this event lake."),
    ] = None,
    lake_every: Annotated[
        float, typer.Option(min=0.05, help="Seconds between appends to the lake under load.")
    ] = 60.0,
    lake_events: Annotated[
        int, typer.Option(min=1, help="Append to the lake as soon as this many events wait.")
    ] = 1_000_000,
) -> None:
    """Serve the store over HTTP: the event collector, the creator API and operations
    (with --lake, the collector's events go on to the event lake too)."""
    from creatorlens.serve import ServiceConfig, run

    if policy is not None and not policy.is_file():
        raise UserError(f"{policy}: no such policy file")
    if lake is not None and lake.exists() and not lake.is_dir():
        raise UserError(f"{lake}: not a folder (the event lake is a folder of Delta tables)")
    config = ServiceConfig(
        db=db,
        keys=keys,
        policy=policy,
        max_body_bytes=max_body_bytes,
        max_records=max_records,
        ingest_rate=ingest_rate,
        creator_rate=creator_rate,
        refresh_every=refresh_every,
        group_records=group_records,
        lake=lake,
        lake_every=lake_every,
        lake_events=lake_events,
    )
    if policy is not None:
        from creatorlens.privacy import load_dp_policy, load_policy

        load_policy(policy)  # a bad policy is one line here, not a failed start
        load_dp_policy(policy)  # and so is a bad [apps] table (docs/apps.md)
    run(config, host=host, port=port)


@tokens_app.command("create")
def tokens_create(
    db: DbOption,
    ingest: Annotated[bool, typer.Option("--ingest", help="A platform ingest key.")] = False,
    creator: Annotated[
        str | None, typer.Option("--creator", help="A creator token for this account.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name to recognize it by.")] = None,
    expires: Annotated[
        str | None, typer.Option(help="Lifetime, as 30d, 12h or 2w (default: none).")
    ] = None,
) -> None:
    """Create a token; its secret is printed once, as the last line."""
    from creatorlens.load import parse_duration, token_book

    if ingest == (creator is not None):
        raise UserError("give either --ingest or --creator ID")
    if not db.is_file():
        raise UserError(f"{db}: no such store")
    lifetime = parse_duration(expires) if expires else None
    if creator is not None:
        _check_creator(db, creator)
    kind = "ingest" if ingest else "creator"
    token, secret = token_book(db).create(kind, name=name, creator_id=creator, expires_in=lifetime)
    what = f"creator token for {creator}" if creator else "ingest key"
    until = f", expires {token.expires_at.isoformat()}" if token.expires_at else ""
    print(f"created {what} {token.token_id} ({token.name}{until})")
    print("the secret below is shown once and stored only as a hash:")
    print(secret)


def _check_creator(db: Path, creator: str) -> None:
    """Refuse a token for an account that has no analytics (checked when the store can be
    read; a running server holds it, and then answers such a token with the same error)."""
    from creatorlens.studio import open_studio

    try:
        with open_studio(db, creator):
            pass
    except UserError as exc:
        if "lock" not in str(exc) and "no rollups" not in str(exc):
            raise
    except QueryError:
        raise UserError(f"no account {creator!r} in {db}") from None


@tokens_app.command("list")
def tokens_list(db: DbOption) -> None:
    """List the tokens (never their secrets) and their state."""
    from datetime import UTC, datetime

    from creatorlens.load import token_book

    now = datetime.now(UTC)
    table = Table(title=f"Tokens of {db}")
    for col in ("token", "kind", "name", "creator", "created", "expires", "state"):
        table.add_column(col)
    book = token_book(db)
    for t in book.tokens:
        table.add_row(
            t.token_id,
            t.kind,
            t.name,
            t.creator_id or "",
            t.created_at.isoformat(),
            t.expires_at.isoformat() if t.expires_at else "",
            t.state(now),
        )
    console.print(table if book.tokens else f"no tokens for {db}")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `tokens list`).")],
    db: DbOption,
) -> None:
    """Revoke a token: the server refuses it from its next request."""
    from creatorlens.load import token_book

    token = token_book(db).revoke(token_id)
    console.print(f"token {token.token_id} revoked at {token.revoked_at.isoformat()}")


# --- apps: third-party apps of the HTTP service (creatorlens.apps, docs/apps.md) -------------

apps_app = typer.Typer(
    help="Third-party apps of the HTTP service: create, list, revoke.", no_args_is_help=True
)
app.add_typer(apps_app, name="apps")


@apps_app.command("create")
def apps_create(
    db: DbOption,
    name: Annotated[str, typer.Option("--name", help="The app's name, shown on consent.")],
    redirect: Annotated[
        list[str], typer.Option("--redirect", help="A redirect URL it may use (repeatable).")
    ],
) -> None:
    """Register an app; its client id is printed, and its secret once, as the last line."""
    from creatorlens.load import app_book

    if not db.is_file():
        raise UserError(f"{db}: no such store")
    registered, secret = app_book(db).create(name, redirect)
    print(f"created app {registered.name!r}")
    print(f"client_id: {registered.client_id}")
    print(f"redirect: {', '.join(registered.redirect_uris)}")
    print("the client secret below is shown once and stored only as a hash:")
    print(secret)


@apps_app.command("list")
def apps_list(db: DbOption) -> None:
    """List the registered apps (never their secrets) and their state."""
    from creatorlens.load import app_book

    book = app_book(db)
    table = Table(title=f"Apps of {db}")
    for col in ("client id", "name", "redirects", "created", "state"):
        table.add_column(col)
    for a in book.apps:
        state = f"revoked {a.revoked_at.isoformat()}" if a.revoked_at else "active"
        table.add_row(
            a.client_id, a.name, " ".join(a.redirect_uris), a.created_at.isoformat(), state
        )
    console.print(table if book.apps else f"no apps for {db}")


@apps_app.command("revoke")
def apps_revoke(
    client_id: Annotated[str, typer.Argument(help="The app's client id (see `apps list`).")],
    db: DbOption,
    creator: Annotated[
        str | None, typer.Option("--creator", help="End only this creator's grant.")
    ] = None,
) -> None:
    """Revoke an app (or one creator's grant to it): its tokens fail from the next request."""
    from creatorlens.load import app_book

    book = app_book(db)
    if creator is not None:
        ended = book.revoke_grant(client_id, creator)
        console.print(f"grant of {creator} to {client_id} ended at {ended.at.isoformat()}")
        return
    revoked = book.revoke(client_id)
    assert revoked.revoked_at is not None
    console.print(f"app {revoked.client_id} revoked at {revoked.revoked_at.isoformat()}")


# --- LIVE and notifications (issue 19) -------------------------------------------------------


@app.command()
def live(
    db: DbOption,
    creator: Annotated[str, typer.Option("--creator", help="The creator account id.")],
    keys: KeysOption = None,
    policy: Annotated[Path | None, typer.Option(help="Privacy policy TOML.")] = None,
    every: Annotated[float, typer.Option(min=0.2, help="Seconds between updates.")] = 1.0,
) -> None:
    """A creator's LIVE as it runs (viewers, peak, the room), then its summary; ends by
    itself once no LIVE runs."""
    import time

    from rich.live import Live

    from creatorlens.live import live_view_of
    from creatorlens.privacy import load_policy

    rules = load_policy(policy)
    view = live_view_of(db, creator, rules, keys=keys)
    if view.running:
        with Live(_live_table(view), console=console, refresh_per_second=4) as screen:
            while view.running:
                time.sleep(every)
                view = live_view_of(db, creator, rules, keys=keys)
                screen.update(_live_table(view))
    view = live_view_of(db, creator, rules, keys=keys, expire=True)
    if view.last is None:
        console.print(f"{creator} has no LIVE yet")
        return
    console.print(_live_summary_table(view.last))


def _live_table(view) -> Table:
    table = Table(title=f"LIVE of {view.creator_id}")
    for label in ("LIVE", "viewers now", "peak", "unique", "comments", "gifts", "value", "room"):
        table.add_column(label, justify="left" if label in ("LIVE", "room") else "right")
    for live in view.running:
        shown = live.room[:8]
        room = ", ".join(shown) + (f" and {len(live.room) - 8} more" if len(live.room) > 8 else "")
        table.add_row(
            live.live_id,
            f"{live.viewers_now:,}",
            f"{live.peak:,}",
            f"{live.unique_viewers:,}",
            f"{live.comments:,}",
            f"{live.gifts:,}",
            f"{live.gift_value:,.2f}",
            room,
        )
    return table


def _live_summary_table(summary) -> Table:
    table = Table(title=f"LIVE {summary.live_id} summary ({summary.ended_by.replace('_', ' ')})")
    table.add_column("")
    table.add_column("", justify="right")
    for label, value in (
        ("started", f"{summary.started_at:%Y-%m-%d %H:%M} UTC"),
        ("duration", f"{summary.duration_s / 60:,.1f} min"),
        ("peak viewers", f"{summary.peak:,}"),
        ("average viewers", f"{summary.average_viewers:,.2f}"),
        ("unique viewers", f"{summary.unique_viewers:,}"),
        ("new followers", f"{summary.new_followers:,}"),
        ("comments", f"{summary.comments:,}"),
        ("gifts", f"{summary.gifts:,} (value {summary.gift_value:,.2f})"),
        ("viewers by minute", " ".join(str(v) for v in summary.curve[:30])),
    ):
        table.add_row(label, value)
    return table


def _demo_live(db: Path, creators: list[str]) -> None:
    """The demo's LIVE: the last one of the first top creator who went LIVE (the rooms of
    ended LIVEs are deleted on the way, as the policy's retention says)."""
    from creatorlens.live import live_view_of
    from creatorlens.privacy import load_policy

    for creator in creators:
        view = live_view_of(db, creator, load_policy(None), expire=True)
        if view.last is not None:
            console.print(f"\n[b]Last LIVE of {creator}[/b]")
            console.print(_live_summary_table(view.last))
            return


@app.command()
def notifications(
    db: DbOption,
    creator: Annotated[str, typer.Option("--creator", help="The creator account id.")],
    keys: KeysOption = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Notifications to show.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="next cursor of the page before")] = None,
) -> None:
    """A creator's notifications, newest first (likes named by the likers rule)."""
    from creatorlens.notify import notifications_of

    page = notifications_of(db, creator, cursor=cursor, limit=limit, keys=keys)
    table = Table(title=f"Notifications of {creator} ({page.unread:,} unread)")
    table.add_column("when (UTC)")
    table.add_column("")
    table.add_column("notification")
    table.add_column("video")
    for n in page.notifications:
        mark = "●" if n.unread else ""
        table.add_row(f"{n.at:%Y-%m-%d %H:%M}", mark, n.message, n.video_id or "")
    console.print(table)
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}")


def _next_steps(db: Path, creator: str | None) -> None:
    """The commands to go on with, spelled with the path that works from here."""
    exe = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("creatorlens")
    cli = str(exe) if exe.name == "creatorlens" and exe.exists() else ".venv/bin/creatorlens"
    console.print("\n[b]Next[/b] (or `source .venv/bin/activate` and drop the path):")
    lines = [
        f"{cli} creators --db {db}",
        f"{cli} quarantine --db {db}",
    ]
    if creator:
        lines += [
            f"{cli} report --db {db} --creator {creator} --period 7d --compare",
            f"{cli} report --db {db} --creator {creator} --json",
        ]
    for line in lines:
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


# --- the event lake and Spark (creatorlens.lake, docs/scaling.md) ----------------------------


def _ingest_to_lake(db, paths, lake, keys, entity, batch_rows) -> None:
    from creatorlens.lake import ingest_to_lake

    # The lake's own ingest state (event ids seen, pseudonym key, follows) by default.
    db = db or lake / "_ingest" / "store.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    with _progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(source, done: int, total: int | None) -> None:
            if source.name not in tasks:
                label = f"ingest {source.entity:8} {source.path.name}"
                tasks[source.name] = bar.add_task(label, total=total)
            bar.update(tasks[source.name], completed=done, total=max(total or 0, done))

        ingested, exported = ingest_to_lake(
            db,
            paths,
            lake,
            keys=keys,
            entity=entity,
            batch_rows=batch_rows,
            progress=progress,
            export_progress=_stage_progress(bar, "lake"),
        )
    _print_ingest_summary(ingested)
    _print_export_summary(exported, lake)


def _print_export_summary(summary, lake: Path) -> None:
    console.print(
        f"lake {lake}: {summary.mode}, {summary.events:,} events appended in "
        f"{summary.commits} commits over {len(summary.dates)} dates; "
        f"{summary.lake_events:,} events in the lake ({summary.seconds:.1f} s)"
    )


@app.command()
def export(
    db: DbOption,
    lake: Annotated[Path, typer.Option("--lake", help="The event lake to write.")],
    keys: KeysOption = None,
    chunk_events: Annotated[int, typer.Option(min=1, hidden=True)] = 1_000_000,
) -> None:
    """Write a store's events to the event lake (Parquet by date, exactly once)."""
    from creatorlens.lake import export_store, open_store_for_export

    with open_store_for_export(db, keys) as store, _progress_bar() as bar:
        summary = export_store(
            store, lake, chunk_events=chunk_events, progress=_stage_progress(bar, "lake")
        )
    _print_export_summary(summary, lake)


@app.command()
def rollup(
    engine: Annotated[str, typer.Option(help="duckdb (the store) or spark (the lake).")] = "duckdb",
    db: Annotated[Path | None, typer.Option("--db", help="The store (engine duckdb).")] = None,
    lake: Annotated[Path | None, typer.Option("--lake", help="The lake (engine spark).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where Spark writes the rollups.")
    ] = None,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL (default: local[2]).")
    ] = None,
    conf: Annotated[
        list[str] | None, typer.Option("--conf", help="A Spark setting, KEY=VALUE.")
    ] = None,
    full: Annotated[bool, typer.Option(help="Recompute every day.")] = False,
    policy: Annotated[
        Path | None, typer.Option(help="Privacy policy TOML (its view_threshold_ms).")
    ] = None,
    keys: KeysOption = None,
) -> None:
    """Bring the rollups up to date: in the store (DuckDB), or from the lake on Spark."""
    from creatorlens.privacy import load_policy

    threshold = load_policy(policy).view_threshold_ms if policy else None
    if engine == "duckdb":
        if db is None:
            raise UserError("--engine duckdb needs --db (the store)")
        if not db.is_file():
            raise UserError(f"{db}: no such store")
        summary = _ingest_with_progress(db, [], keys, None, view_threshold_ms=threshold)
        rollups = summary.rollups
        console.print(f"rollups {rollups.mode}: {rollups.reason} ({rollups.seconds:.1f} s)")
        return
    if engine != "spark":
        raise UserError(f"--engine must be duckdb or spark, not {engine!r}")
    if lake is None or out is None:
        raise UserError("--engine spark needs --lake (the event lake) and --out (a folder)")
    if not lake.is_dir():
        raise UserError(f"{lake}: no such lake")
    settings = {}
    for item in conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--conf takes KEY=VALUE, not {item!r}")
        settings[key] = value
    from creatorlens.lake import run_spark_rollups

    extra = {} if threshold is None else {"view_threshold_ms": threshold}
    with _progress_bar() as bar:
        summary = run_spark_rollups(
            lake,
            out,
            master=master,
            full=full,
            conf=settings,
            progress=_stage_progress(bar, "spark"),
            **extra,
        )
    reason = f": {summary.reason}" if summary.reason else ""
    console.print(
        f"spark rollups {summary.mode}{reason} on {summary.master}, {summary.events:,} events, "
        f"{len(summary.days)} days recomputed ({summary.seconds:.1f} s)"
    )


@app.command("load-rollups")
def load_rollups_command(
    source: Annotated[Path, typer.Option("--from", help="The folder Spark wrote (--out).")],
    db: DbOption,
    keys: Annotated[
        Path | None,
        typer.Option("--keys", help="The instance's key file (its noise secret; default: new)."),
    ] = None,
) -> None:
    """Load Spark-made rollups into a store that `report` and `serve` read."""
    from creatorlens.lake import load_rollups

    summary = load_rollups(source, db, keys=keys)
    rows = sum(v for k, v in summary.rows.items() if k.startswith("rollup_"))
    console.print(
        f"loaded {rows:,} rollup rows of {len(summary.rows)} tables into {db} "
        f"({summary.seconds:.1f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    try:
        command.main(
            argv if argv is not None else sys.argv[1:],
            prog_name="creatorlens",
            standalone_mode=False,
        )
    except (UserError, QueryError) as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return _exit(2)
    except typer.Exit as exc:
        return _exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted", highlight=False)
        return _exit(1)
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        return _exit(130)
    except typer.exceptions.TyperException as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        message = " ".join(message.split())
        err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
        return _exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # a bug, not bad input: still one line, never a traceback
        message = " ".join(str(exc).split()) or type(exc).__name__
        err.print(f"error: internal failure: {message}", highlight=False, markup=False)
        return _exit(1)
    return _exit(0)


def _exit(code: int) -> int:
    sys.exit(code)
