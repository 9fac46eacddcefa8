"""Full-size stand-ins for DVS128 Gesture and N-Caltech101, in their published layouts.

Nothing is downloaded: the events are drawn here (seeded) and written the way the real
datasets are distributed, so the readers, the framing cache and training run on data
of the real sizes and event rates without the real recordings:

- ``dvsgesture OUT``: ``OUT/userNN_<lighting>.aedat`` (AEDAT 3.1: ``#!AER-DAT3.1``
  header with ``#Source 1: DVS128``, then 28-byte packet headers and polarity events of
  8 bytes, a special-event packet first as in real files) with
  ``userNN_<lighting>_labels.csv``. 29 users, 122 recordings (users 1-6 under 5
  lightings, users 7-29 under 4), 11 gestures per recording: 1,342 gestures, 1,078 of
  users 1-23 (training) and 264 of users 24-29 (test). Each gesture lasts 5.5-7 s and
  holds 100k-400k events (uniform), separated by 0.5-1.5 s of background noise
  (2,000 events/s), at 128x128.
- ``ncaltech101 OUT``: ``OUT/Caltech101/<class>/image_NNNN.bin`` (5 bytes per event,
  23-bit timestamps with the y == 240 overflow markers every 2^13 us... not needed
  within 300 ms, so none are written): 101 classes holding 8,246 recordings (airplanes
  800, Motorbikes 798, Faces_easy 435, watch 239, Leopards 200, the other 96 classes
  between 31 and 128) plus BACKGROUND_Google with 468, 8,714 files in all. Each
  recording spans 300 ms (three saccades of 100 ms) on a sensor of up to 240x180 (the
  image's own extent), with a log-normal event count: median 100k, clipped to
  20k-500k (an assumption about the real set's rates, not a measured statistic).

The content is class-dependent so that a network can learn something: a blob moving on
a per-class trajectory (gestures: waves, circles in both directions, ...; images: a
per-class pattern of bright spots swept by the saccades), with the leading edge ON and
the trailing edge OFF, plus uniform noise events. ``--scale`` shrinks the number of
recordings and events for quick checks (tests use it); 1.0 is the full size.

    python benchmarks/make_standin.py dvsgesture /tmp/dvsgesture [--scale 1.0] [--seed 0]
    python benchmarks/make_standin.py ncaltech101 /tmp/ncaltech101 [--scale 1.0] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np

LIGHTINGS = ["fluorescent", "fluorescent_led", "lab", "led", "natural"]
AEDAT_HEADER = (
    b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
    b"#Start-Time: 2017-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n"
)
PACKET_EVENTS = 8192  # polarity events per AEDAT packet


# ---------------------------------------------------------------------------------------
# DVS128 Gesture
# ---------------------------------------------------------------------------------------


def gesture_recordings(scale: float = 1.0) -> list[tuple[int, str]]:
    """(user, lighting) of every recording: 122 at full scale."""
    recs = []
    for user in range(1, 30):
        for light in LIGHTINGS[: 5 if user <= 6 else 4]:
            recs.append((user, light))
    if scale < 1.0:  # keep both splits: every k-th recording
        k = max(1, round(1 / scale))
        recs = recs[::k] + [r for r in recs if r[0] >= 24][:1]
        recs = sorted(set(recs))
    return recs


def _trajectory(c: int, t: np.ndarray, f: float, phase: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre (x, y) of gesture class ``c`` (0-10) at times ``t`` (s)."""
    w = 2 * np.pi * f * t + phase
    side = {1: 40, 2: 88, 3: 40, 4: 40, 5: 88, 6: 88}.get(c, 64)
    if c == 0:  # clapping: horizontal back and forth in the middle
        return 64 + 20 * np.sin(w), 70 + 0 * w
    if c in (1, 2):  # waves: one side, left-right
        return side + 15 * np.sin(w), 45 + 5 * np.cos(2 * w)
    if c in (3, 4, 5, 6):  # arm circles: clockwise (3, 5) or counter-clockwise (4, 6)
        d = 1 if c in (3, 5) else -1
        return side + 22 * np.cos(d * w), 64 + 22 * np.sin(d * w)
    if c == 7:  # arm roll: a small fast circle in the middle
        return 64 + 10 * np.cos(2 * w), 75 + 10 * np.sin(2 * w)
    if c == 8:  # air drums: vertical strokes
        return 64 + 25 * np.sign(np.sin(w / 2)), 80 + 15 * np.abs(np.sin(w))
    if c == 9:  # air guitar: a diagonal strum
        return 55 + 15 * np.sin(w), 85 + 15 * np.sin(w)
    return 64 + 30 * np.sin(0.7 * w), 64 + 30 * np.sin(1.3 * w + 1)  # other


def _blob_events(rng, n, t0, t1, centre, sigma, size):
    """``n`` events of a blob moving along ``centre(t)`` during [t0, t1) us."""
    t = np.sort(rng.integers(t0, t1, n))
    cx, cy = centre((t - t0) * 1e-6)
    dx, dy = rng.normal(0, sigma, n), rng.normal(0, sigma, n)
    vx, vy = np.gradient(cx), np.gradient(cy)
    p = (dx * vx + dy * vy > 0).astype(np.int64)  # leading edge ON, trailing edge OFF
    x = np.clip(np.rint(cx + dx), 0, size[0] - 1).astype(np.int64)
    y = np.clip(np.rint(cy + dy), 0, size[1] - 1).astype(np.int64)
    return x, y, t, p


def _noise_events(rng, n, t0, t1, size):
    t = np.sort(rng.integers(t0, t1, n))
    return rng.integers(0, size[0], n), rng.integers(0, size[1], n), t, rng.integers(0, 2, n)


def _merge(parts):
    x, y, t, p = (np.concatenate([q[i] for q in parts]) for i in range(4))
    order = np.argsort(t, kind="stable")
    return x[order], y[order], t[order], p[order]


def write_aedat31(path: Path, x, y, t, p) -> None:
    """An AEDAT 3.1 file of polarity events (libcaer's bit layout), a special packet first."""
    data = (x.astype(np.uint32) << 17) | (y.astype(np.uint32) << 2) | (p.astype(np.uint32) << 1)
    data |= np.uint32(1)  # valid
    overflow = (t >> 31).astype(np.int64)
    ts = (t & 0x7FFFFFFF).astype(np.int32)
    words = np.empty((len(t), 2), dtype="<u4")
    words[:, 0] = data
    words[:, 1] = ts.view(np.uint32)
    with open(path, "wb") as f:
        f.write(AEDAT_HEADER)
        special = struct.pack("<Ii", 0, 0)  # a timestamp-reset special event (type 0)
        f.write(struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1) + special)
        start = 0
        while start < len(t):
            end = min(len(t), start + PACKET_EVENTS)
            ov = int(overflow[start])
            end = start + int(np.searchsorted(overflow[start:end], ov, side="right"))
            n = end - start
            f.write(struct.pack("<hhiiiiii", 1, 1, 8, 4, ov, n, n, n))
            f.write(words[start:end].tobytes())
            start = end


def make_dvsgesture(out: Path, scale: float = 1.0, seed: int = 0, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    size = (128, 128)
    total_events = gestures = 0
    recs = gesture_recordings(scale)
    for r, (user, light) in enumerate(recs):
        rng = np.random.default_rng([seed, user, LIGHTINGS.index(light)])
        order = rng.permutation(11)
        parts, rows, now = [], [], int(rng.integers(500_000, 1_500_000))
        for c in order:
            dur = int(rng.uniform(5.5, 7.0) * 1e6 * max(scale, 0.05))
            n = max(200, int(rng.integers(100_000, 400_001) * scale))
            f, phase = rng.uniform(0.6, 1.2), rng.uniform(0, 2 * np.pi)
            sigma = rng.uniform(4, 8)
            parts.append(
                _blob_events(
                    rng, int(0.9 * n), now, now + dur,
                    lambda tt, c=c, f=f, ph=phase: _trajectory(int(c), tt, f, ph), sigma, size,
                )
            )  # fmt: skip
            parts.append(_noise_events(rng, n - int(0.9 * n), now, now + dur, size))
            rows.append((int(c) + 1, now, now + dur))
            gap = int(rng.uniform(0.5, 1.5) * 1e6 * max(scale, 0.05))
            parts.append(_noise_events(rng, max(1, 2000 * gap // 10**6), now + dur, now + dur + gap, size))
            now += dur + gap
        x, y, t, p = _merge(parts)
        stem = f"user{user:02d}_{light}"
        write_aedat31(out / f"{stem}.aedat", x, y, t, p)
        lines = "".join(f"{c},{s},{e}\n" for c, s, e in rows)
        (out / f"{stem}_labels.csv").write_text("class,startTime_usec,endTime_usec\n" + lines)
        total_events += len(t)
        gestures += len(rows)
        log(f"dvsgesture stand-in: {r + 1}/{len(recs)} recordings, {total_events:,} events")
    return {"recordings": len(recs), "gestures": gestures, "events": total_events}


# ---------------------------------------------------------------------------------------
# N-Caltech101
# ---------------------------------------------------------------------------------------

BIG_CLASSES = {"airplanes": 800, "Motorbikes": 798, "Faces_easy": 435, "watch": 239, "Leopards": 200}
N_CALTECH_OBJECTS = 8246  # recordings in the 101 classes
N_BACKGROUND = 468


def caltech_class_sizes(scale: float = 1.0, seed: int = 0) -> dict[str, int]:
    """Recordings per class folder (101 classes + BACKGROUND_Google)."""
    rng = np.random.default_rng([seed, 101])
    sizes = dict(BIG_CLASSES)
    rest = N_CALTECH_OBJECTS - sum(sizes.values())
    others = [f"class_{i:03d}" for i in range(96)]
    # 96 sizes in [31, 128] summing to ``rest``
    raw = rng.uniform(31, 128, 96)
    raw = 31 + (raw - 31) * (rest - 31 * 96) / (raw - 31).sum()
    counts = np.floor(raw).astype(int)
    counts[: rest - counts.sum()] += 1
    sizes.update(zip(others, counts.tolist(), strict=True))
    sizes["BACKGROUND_Google"] = N_BACKGROUND
    if scale < 1.0:
        sizes = {k: max(2, int(round(v * scale))) for k, v in sizes.items()}
    return sizes


def nmnist_bytes(x, y, t, p) -> bytes:
    """5 bytes per event: x, y, polarity bit 7 + 23-bit big-endian timestamp (us)."""
    out = np.empty((len(t), 5), dtype=np.uint8)
    out[:, 0], out[:, 1] = x, y
    out[:, 2] = (p.astype(np.uint8) << 7) | ((t >> 16) & 0x7F).astype(np.uint8)
    out[:, 3], out[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    return out.tobytes()


def make_ncaltech101(out: Path, scale: float = 1.0, seed: int = 0, log=print) -> dict:
    base = out / "Caltech101"
    sizes = caltech_class_sizes(scale, seed)
    total_events = files = 0
    for k, (name, count) in enumerate(sizes.items()):
        (base / name).mkdir(parents=True, exist_ok=True)
        crng = np.random.default_rng([seed, 7, k])
        spots = crng.uniform([20, 20], [200, 150], size=(4, 2))  # the class's bright spots
        for i in range(count):
            rng = np.random.default_rng([seed, k, i])
            w, h = int(rng.integers(160, 241)), int(rng.integers(120, 181))  # image extent
            n = int(np.clip(rng.lognormal(np.log(100_000), 0.6), 20_000, 500_000) * scale)
            n = max(n, 100)
            t = np.sort(rng.integers(0, 300_000, n))
            s = (t // 100_000).clip(0, 2)  # three saccades along a triangle
            frac = (t % 100_000) / 100_000
            corners = np.array([[0, 0], [2.5, 2.5], [-2.5, 2.5], [0, 0]]) * 4
            pos = corners[s] + (corners[s + 1] - corners[s]) * frac[:, None]
            which = rng.integers(0, len(spots), n)
            jitter = rng.normal(0, 6, (n, 2))
            xy = spots[which] * [w / 240, h / 180] + pos + jitter
            noise = rng.random(n) < 0.1
            xy[noise] = rng.uniform([0, 0], [w, h], size=(int(noise.sum()), 2))
            x = np.clip(np.rint(xy[:, 0]), 0, w - 1).astype(np.int64)
            y = np.clip(np.rint(xy[:, 1]), 0, h - 1).astype(np.int64)
            vel = corners[s + 1] - corners[s]
            p = ((jitter * vel).sum(1) > 0).astype(np.int64)
            p[noise] = rng.integers(0, 2, int(noise.sum()))
            (base / name / f"image_{i + 1:04d}.bin").write_bytes(nmnist_bytes(x, y, t, p))
            total_events += n
            files += 1
        log(f"ncaltech101 stand-in: {k + 1}/{len(sizes)} classes, {files} files")
    return {"classes": len(sizes) - 1, "files": files, "events": total_events}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=("dvsgesture", "ncaltech101"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    make = make_dvsgesture if args.dataset == "dvsgesture" else make_ncaltech101
    info = make(args.out, args.scale, args.seed, log=lambda s: print(s, file=sys.stderr))
    info["seconds"] = round(time.perf_counter() - t0, 1)
    info["bytes"] = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
