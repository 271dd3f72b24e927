"""The hostile probe's heavy inputs against a public server: how far its memory rises, and whether it comes back.

`python -m benchmarks.probe_memory` launches `playground.py --public` (offline sample) and, after one session has
trained and left (the baseline: data loaded, kernels warm), sends what grew the server in issue 34's probe:
a 535 KB zip of 80 PNGs of 4096x4096 to /upload_dataset, a 117 KB PNG of 6000x6000 to /predict_image (3 times),
an .npz whose x.npy declares (10^8, 1000), five 50 MB strings to /train_setup, and two sessions training at once.
Every session leaves (gradio_client.close ends its heartbeat, as closing a tab does); then the server is left
idle for --idle-s. Samples the server's RSS every 0.1 s (and the PSS of its family: fork server, workers) and
prints the baseline, the peak and the end, the goal being the end within 200 MB of the baseline. Writes the key
probe_memory of benchmarks/results.json, keeping its other keys.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import psutil
from gradio_client import Client, handle_file
from PIL import Image

from benchmarks.machine import machine
from benchmarks.run import playground_server
from benchmarks.session_memory import memory_mb
from cnn_lab.core.config import ExperimentConfig, ModelConfig, ModelSpec, RunConfig
from cnn_lab.ui import api_values

RESULTS = Path(__file__).with_name("results.json")
GOAL_MB = 200
SMALL = ExperimentConfig(
    ModelSpec(ModelConfig.from_conv_channels([8, 16])), ModelSpec(ModelConfig.from_conv_channels([8, 16])),
    RunConfig(train_subset=4000),
)  # fmt: skip


def flat_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def the_probes(folder: Path) -> dict[str, Path]:
    """The probe's files: the zip of big PNGs, the big photo, the lying .npz."""
    png = flat_png(4096)
    zipped = folder / "huge.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        for k in range(80):
            archive.writestr(f"{('a', 'b')[k % 2]}/{k}.png", png)
    photo = folder / "big.png"
    pixels = np.zeros((6000, 6000, 3), np.uint8)
    pixels[2000:4000, 2900:3100] = 255
    Image.fromarray(pixels).save(photo)
    header = np.lib.format.header_data_from_array_1_0(np.zeros((4, 28, 28), np.uint8))
    header["shape"] = (10**8, 1000)
    forged = io.BytesIO()
    np.lib.format.write_array_header_1_0(forged, header)
    forged.write(bytes(4 * 28 * 28))
    labels = io.BytesIO()
    np.save(labels, np.zeros(4, np.int64))
    npz = folder / "liar.npz"
    with zipfile.ZipFile(npz, "w") as archive:
        archive.writestr("x.npy", forged.getvalue())
        archive.writestr("y.npy", labels.getvalue())
    return {"zip": zipped, "photo": photo, "npz": npz}


def refused(call) -> str:
    try:
        call()
    except Exception as err:
        return str(err)[:120]
    return "accepted"


def train_and_leave(url: str) -> None:
    client = Client(url, verbose=False)
    status = client.predict(*api_values(SMALL), False, api_name="/train")[0]
    assert status.startswith("**Finished**"), status
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, playground_server(flags=("--public",)) as (server, url):
        probes = the_probes(Path(folder))
        train_and_leave(url)
        time.sleep(5)
        baseline = memory_mb(server.pid)
        peak, sampling = {"server_rss_mb": 0.0}, threading.Event()

        def sample() -> None:
            process = psutil.Process(server.pid)
            while not sampling.is_set():
                peak["server_rss_mb"] = max(peak["server_rss_mb"], process.memory_info().rss / 2**20)
                time.sleep(0.1)

        threading.Thread(target=sample, daemon=True).start()
        client = Client(url, verbose=False)
        said = {
            "zip of 80 PNGs of 4096x4096": refused(
                lambda: client.predict(handle_file(str(probes["zip"])), 32, api_name="/upload_dataset")
            ),
            "npz declaring (10^8, 1000)": refused(
                lambda: client.predict(handle_file(str(probes["npz"])), 0, api_name="/upload_dataset")
            ),
        }
        for _ in range(3):
            said["6000x6000 PNG"] = refused(
                lambda: client.predict(handle_file(str(probes["photo"])), api_name="/predict_image")
            )
        for _ in range(5):
            said["50 MB string"] = refused(lambda: client.predict("x" * (50 * 2**20), False, api_name="/train_setup"))
        client.close()
        pair = [threading.Thread(target=train_and_leave, args=(url,)) for _ in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()
        time.sleep(args.idle_s)
        sampling.set()
        after = memory_mb(server.pid)
    result = {
        "machine": machine(),
        "baseline": {k: round(v) for k, v in baseline.items()},
        "peak_server_rss_mb": round(peak["server_rss_mb"]),
        "after": {k: round(v) for k, v in after.items()},
        "server_rss_growth_mb": round(after["server_rss_mb"] - baseline["server_rss_mb"]),
        "goal_mb": GOAL_MB,
        "idle_s": args.idle_s,
        "answers": said,
    }
    print(json.dumps(result, indent=1))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**results, "probe_memory": result}, indent=2))


if __name__ == "__main__":
    main()
