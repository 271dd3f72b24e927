"""The command line: `cnn-lab` (or python playground.py) starts the playground with these flags."""

from __future__ import annotations

import argparse
import os

from .data import DATA_DIR_ENV, reachable
from .limits import PUBLIC
from .runtime import tune_allocator

SHARE_SERVER = "https://api.gradio.app"
SPACE_ENV = "SPACE_ID"  # set by Hugging Face Spaces


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train two CNNs side by side and compare them.")
    parser.add_argument("--host", default=None, help="address to listen on (default: Gradio's, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=None, help="port (default: Gradio's 7860, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="also create a public gradio.live link (needs internet)")
    parser.add_argument(
        "--data-dir", default=None, help=f"folder with MNIST/raw/... in torchvision's layout (or set {DATA_DIR_ENV})"
    )
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
        "--train-in-threads",
        action="store_true",
        help="train on the server's threads instead of worker processes: about 100 MB per extra concurrent run "
        "instead of 250, but 15-25 %% slower, and a crash in a run takes the server down",
    )
    parser.add_argument(
        "--runs-db", default=None, help="SQLite file of the run history (default: runs.sqlite under ~/.cache/cnn_lab)"
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="a server for many people (on by itself on a Hugging Face Space): each browser session sees only its own "
        "runs, and each run has limits (shown on the page; see README)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Gradio and the page are imported here, not at the top: a training worker re-imports the script that started the
    # server (multiprocessing does), and this keeps Gradio out of every worker (measured: ~110 MB each).
    from .ui import CSS, build_app, quiet_queue
    from .ui.headers import security_middleware
    from .uploads import UploadLimits

    tune_allocator()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    share = args.share
    public = args.public or bool(os.environ.get(SPACE_ENV))  # a Hugging Face Space is public
    if share and not reachable(SHARE_SERVER):
        print(
            f"Note: --share needs the internet and {SHARE_SERVER} is not reachable; serving locally only.", flush=True
        )
        share = False
    demo = build_app(
        args.data_dir,
        args.device,
        args.max_concurrent_trainings,
        processes=not args.train_in_threads,
        runs_db=args.runs_db,
        public=public,
    )
    max_queue = args.max_queue if args.max_queue is not None else PUBLIC.max_queue if public else None
    demo.queue(default_concurrency_limit=16, max_size=max_queue)
    quiet_queue(demo)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=share,
        css=CSS,
        max_file_size=f"{UploadLimits().max_file_mb}mb",  # the largest upload the app reads: a dataset
        app_kwargs={"middleware": security_middleware()},
    )
