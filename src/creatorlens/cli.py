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
    db: DbOption,
    keys: KeysOption = None,
    entity: Annotated[
        str | None, typer.Option(help="accounts, videos or events (default: detect).")
    ] = None,
    batch_rows: Annotated[int, typer.Option(min=1, hidden=True)] = 750_000,
    rollups: Annotated[
        bool, typer.Option(help="Refresh the rollups afterwards (dashboards read them).")
    ] = True,
) -> None:
    """Validate, pseudonymize and store platform files, exactly once."""
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
    """What a creator acts on: the best times to post (more insights to come, issue 18)."""
    _insights(db, creator, period, as_json, policy, keys)


def _insights(db, creator, period, as_json, policy, keys) -> None:
    import json

    from creatorlens.insights import best_times, creator_fund
    from creatorlens.studio import open_studio

    with open_studio(db, creator, policy=policy, keys=keys) as studio:
        found = best_times(studio, studio.period(period))
        fund = creator_fund(studio)
    if as_json:
        out = {"best_times": found.to_json(), "creator_fund": fund.to_json()}
        print(json.dumps(out, indent=2, default=str))
        return
    console.print(f"[b]Best times to post[/b] ({found.timezone})")
    if found.note:
        console.print(f"  {found.note}")
    for slot in found.slots:
        console.print(f"  {slot.label}: {slot.followers:,} followers, {slot.plays:,} plays")
    console.print("[b]Creator fund[/b]")
    for line in fund.missing or ["follower and view rules met"]:
        console.print(f"  {line}")
    console.print(f"  not checked: {', '.join(fund.not_checked)}")
    if fund.monthly_usd:
        console.print(f"  estimate: {fund.monthly_usd[0]:.2f}-{fund.monthly_usd[1]:.2f} USD/month")


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
) -> None:
    """Serve the store over HTTP: the event collector, the creator API and operations."""
    from creatorlens.serve import ServiceConfig, run

    if policy is not None and not policy.is_file():
        raise UserError(f"{policy}: no such policy file")
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
    )
    if policy is not None:
        from creatorlens.privacy import load_policy

        load_policy(policy)  # a bad policy is one line here, not a failed start
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
