"""The command line: `cnn-lab` (the same as `python -m cnn_lab`, and `python playground.py` for the playground).

    cnn-lab [serve] [flags]        the playground (serve is the default command: `cnn-lab --port 7861` serves)
    cnn-lab train SETUP.json ...   a setup the page exported, trained in the terminal (under torchrun: DDP)
    cnn-lab sweep GRID.json ...    a grid or random search over a setup's fields, compared in a report

`cnn-lab COMMAND --help` says each command's flags. Exit codes: 0 done, 2 a bad setup, grid or flag (the
message names it), 1 a run that failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cnn_lab.data.sources import DATA_DIR_ENV, reachable
from cnn_lab.engine.limits import PUBLIC

SHARE_SERVER = "https://api.gradio.app"
SPACE_ENV = "SPACE_ID"  # set by Hugging Face Spaces
COMMANDS = ("serve", "train", "sweep")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", default=None, help=f"folder with MNIST/raw/... in torchvision's layout (or set {DATA_DIR_ENV})"
    )


def _runs_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-db", default=None, help="SQLite file of the run history (default: runs.sqlite under ~/.cache/cnn_lab)"
    )


def _serve_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="address to listen on (default: Gradio's, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None, help="port (default: Gradio's 7860, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also create a public gradio.live link (needs internet)")
    _data_dir(parser)
    parser.add_argument(
        "--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="default device in the page"
    )
    parser.add_argument(
        "--max-concurrent-trainings",
        type=_at_least_one,
        default=2,
        help="runs that may train at once; later ones queue",
    )
    parser.add_argument(
        "--max-queue",
        type=_at_least_one,
        default=None,
        help="requests that may wait in the queue; more are told the queue is full "
        f"(default: {PUBLIC.max_queue} on a public server, no limit otherwise)",
    )
    parser.add_argument(
        "--train-processes",
        type=_at_least_one,
        default=1,
        help="train each run with DistributedDataParallel on this many processes of this machine (gloo; see docs/cli.md: "
        "on a 2-core CPU it is slower, it helps where one process cannot use the hardware)",
    )
    parser.add_argument(
        "--train-in-threads",
        action="store_true",
        help="train on the server's threads instead of worker processes: about 100 MB per extra concurrent run "
        "instead of 250, but 15-25 %% slower, and a crash in a run takes the server down",
    )
    _runs_db(parser)
    parser.add_argument(
        "--upload-mb-per-hour",
        type=int,
        default=None,
        help="what one address may upload in an hour (default: "
        f"{PUBLIC.upload_mb_per_hour} on a public server, no cap otherwise; 0: no cap)",
    )
    parser.add_argument(
        "--behind-proxy",
        action="store_true",
        help="the server is reached through a proxy that appends each caller's address to X-Forwarded-For (on by "
        "itself on a Hugging Face Space): a public server then shares its queue out by those addresses",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="a server for many people (on by itself on a Hugging Face Space): each browser session sees only its own "
        "runs, and each run has limits (shown on the page; see docs/hosting.md)",
    )


def _train_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("setup", help="a setup file: the JSON of the page's Export setup (Share and reuse this setup)")
    parser.add_argument("--epochs", type=int, default=None, help="train both models this many epochs instead")
    _data_dir(parser)
    parser.add_argument(
        "--device", default=None, choices=["auto", "cpu", "cuda", "mps"], help="instead of the setup's device"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for the report, the model files and run.json (default: cnn_lab_runs/run_TIME)",
    )
    _runs_db(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (a log file, a CI job)")


def _sweep_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grid", help='a grid file: {"setup": ..., "vary": {"a.train.learning_rate": [...], ...}}')
    _data_dir(parser)
    parser.add_argument(
        "--out", default=None, help="folder for the comparison report and sweep.json (default: cnn_lab_runs/sweep_TIME)"
    )
    _runs_db(parser)
    parser.add_argument(
        "--jobs",
        type=_at_least_one,
        default=1,
        help="runs at a time, each in a worker process taking turns on the cores (default 1: one after another, on this "
        "process's main thread, the fastest way on a small machine)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnn-lab",
        description="Train two CNNs side by side and compare them: in the playground, in a terminal, or over a grid.",
        epilog="Without a command, cnn-lab serves the playground (cnn-lab --port 7861 is cnn-lab serve --port 7861).",
    )
    commands = parser.add_subparsers(dest="command", metavar="{serve,train,sweep}")
    _serve_flags(
        commands.add_parser("serve", help="start the playground (the default)", description="Start the playground.")
    )
    _train_flags(
        commands.add_parser(
            "train",
            help="train a setup in the terminal (torchrun --nproc_per_node N -m cnn_lab train ... for DDP)",
            description="Train a setup the page exported: progress bars per model, the run kept in the history, and a "
            "report, both models as safetensors and ONNX files, setup.json and run.json in --out. Under torchrun, "
            "each process trains its share of every batch (gloo on CPU, nccl on CUDA) and rank 0 alone writes.",
        )
    )
    _sweep_flags(
        commands.add_parser(
            "sweep",
            help="train a setup over a grid or a random draw of its fields",
            description="Train a setup over a grid (or a random draw) of values of its fields; every run is kept in "
            "the history, and --out gets a comparison report (Markdown and HTML) and sweep.json.",
        )
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command and its flags; with no command, serve (so `python playground.py --port 7861` works as before)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv = ["serve", *argv]
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "train":
        sys.exit(train(args))
    if args.command == "sweep":
        sys.exit(sweep(args))
    serve(args)


def _start_torch() -> None:
    """Load torch (with the faster allocator set-up) once a command runs: --help and a refused flag never wait for it."""
    from cnn_lab.engine.runtime import tune_allocator

    tune_allocator()


def _refused(command: str, message: object) -> int:
    print(f"cnn-lab {command}: error: {message}", file=sys.stderr)
    return 2


def train(args: argparse.Namespace) -> int:
    """`cnn-lab train`: 0 when the run ends, 2 for a bad setup or data, 1 for a run that failed. A bad setup file is
    refused before torch loads (about 5 s on 2 cores)."""
    from cnn_lab.cli.setup_file import SetupError, read_setup

    try:
        setup = read_setup(args.setup, args.epochs, args.device)
    except SetupError as err:
        return _refused("train", err)
    from cnn_lab.cli.terminal import FAILURES, default_out, train_in_terminal, words
    from cnn_lab.core.config import ConfigError
    from cnn_lab.engine.distributed import join, leave
    from cnn_lab.session import SessionError

    _start_torch()
    try:
        group = join(setup.run.device)
    except ConfigError as err:  # more processes than GPUs: every rank says so (it is the same for all)
        return _refused("train", err)
    out = Path(args.out) if args.out else default_out()
    try:
        summary = train_in_terminal(setup, out, args.data_dir, args.runs_db, group, progress=not args.no_progress)
    except FAILURES as err:
        if not group.leader:
            return 1
        code = 1 if isinstance(err, SessionError) else 2
        print(f"cnn-lab train: {'error' if code == 2 else 'failed'}: {err}", file=sys.stderr)
        return code
    finally:
        leave()
    if group.leader:
        print(words(summary, out), flush=True)
    return 0


def sweep(args: argparse.Namespace) -> int:
    """`cnn-lab sweep`: 0 when every run ended (failed ones are in the report), 2 for a bad grid (refused before torch
    loads)."""
    from datetime import datetime, timezone

    from cnn_lab.cli.grid import GridError, read_grid

    try:
        grid = read_grid(args.grid)
    except GridError as err:
        return _refused("sweep", err)
    from tqdm import tqdm

    from cnn_lab.cli.sweep import best, write_report
    from cnn_lab.cli.sweep import sweep as run_sweep
    from cnn_lab.runs.history import open_history

    _start_torch()
    out = Path(args.out) if args.out else Path("cnn_lab_runs") / f"sweep_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}"
    history = open_history(args.runs_db)
    with tqdm(total=len(grid.runs), desc="Sweep", unit="run", dynamic_ncols=True) as bar:

        def said(run) -> None:
            shown = ", ".join(f"{k}={v}" for k, v in run.values.items())
            scores = ", ".join(f"{n} {a:.2%}" for n, a in run.accuracies.items() if a is not None)
            bar.write(f"run {run.number} ({shown}): {run.status}{' · ' + scores if scores else ''}")
            bar.update()

        runs = run_sweep(grid, args.data_dir, history, args.jobs, said)
    written = write_report(grid, runs, out)
    print("\n".join([*best(runs), f"Wrote {', '.join(p.name for p in written)} to {out}/"]), flush=True)
    return 0


def serve(args: argparse.Namespace) -> None:
    """`cnn-lab serve`: the playground, with today's flags."""
    # Gradio and the page are imported here, not at the top: a training worker re-imports the script that started the
    # server (multiprocessing does), and this keeps Gradio out of every worker (measured: ~110 MB each).
    from starlette.middleware import Middleware

    from cnn_lab.data.uploads import UploadLimits
    from cnn_lab.ui import CSS, build_app, quiet_queue
    from cnn_lab.ui.fair_queue import QueueShare, share_the_queue
    from cnn_lab.ui.parts.headers import security_middleware
    from cnn_lab.ui.upload_quota import UploadQuota

    _start_torch()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    share = args.share
    public = args.public or bool(os.environ.get(SPACE_ENV))  # a Hugging Face Space is public
    if share and not reachable(SHARE_SERVER):
        print(
            f"Note: --share needs the internet and {SHARE_SERVER} is not reachable; serving locally only.", flush=True
        )
        share = False
    if args.train_processes > 1 and args.train_in_threads:
        sys.exit("cnn-lab serve: error: --train-processes needs worker processes; leave out --train-in-threads")
    demo = build_app(
        args.data_dir,
        args.device,
        args.max_concurrent_trainings,
        processes=not args.train_in_threads,
        runs_db=args.runs_db,
        public=public,
        train_processes=args.train_processes,
    )
    max_queue = args.max_queue if args.max_queue is not None else PUBLIC.max_queue if public else None
    demo.queue(default_concurrency_limit=16, max_size=max_queue)
    quiet_queue(demo)
    behind_proxy = args.behind_proxy or bool(os.environ.get(SPACE_ENV))
    if public and max_queue is not None:  # each session and address gets its share of the queue, no more
        share_the_queue(demo, QueueShare.of(max_queue, trust_forwarded=behind_proxy))
    middleware = security_middleware()
    quota = (
        args.upload_mb_per_hour if args.upload_mb_per_hour is not None else PUBLIC.upload_mb_per_hour if public else 0
    )
    if quota:  # the upload route is not a free disk
        middleware.append(Middleware(UploadQuota, mb_per_hour=quota, behind_proxy=behind_proxy))
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=share,
        css=CSS,
        max_file_size=f"{UploadLimits().max_file_mb}mb",  # the largest upload the app reads: a dataset
        app_kwargs={"middleware": middleware},
    )
