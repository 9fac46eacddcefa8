"""Fuzz campaign over the event readers, config files and command lines (issue #11).

    python benchmarks/fuzz_inputs.py --cases 3000 --seed 0            # all three kinds
    python benchmarks/fuzz_inputs.py --cases 500 --kinds cli --json

Every case is one seeded input run in this process under a time limit. Outcomes:

- ``ok``: accepted, and the result passes checks made independently of the code under
  test (a pure-Python N-MNIST decoder, exact ms -> us arithmetic, the config's limits);
- ``refused``: a `SkipSNNError`, or exit status 2 with one ``error:`` line naming the
  problem (for files, naming the file) and nothing written;
- ``traceback``: any other exception, exit status, or a traceback on stderr;
- ``hang``: the time limit passed;
- ``nonsense``: accepted although the input breaks a rule (x beyond the sensor, a NaN
  time, ...), or refused although it is valid, or decoded to other values;
- ``bad-message``: refused, but not with one line that names the file.

The exit status is 1 if any case is a traceback, hang, nonsense or bad-message.
``tests/test_fuzz.py`` runs a bounded number of cases of each kind in the suite.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import signal
import struct
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from skipsnn.errors import SkipSNNError

BAD = ("traceback", "hang", "nonsense", "bad-message")
SENSOR = 128  # DVS128: the tonic .npy reader's sensor and the AEDAT cases' '#Source'


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Hang()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def one_line(msg: str) -> bool:
    return bool(msg) and "\n" not in msg.strip() and "Traceback" not in msg


# ---- Readers --------------------


def ref_nmnist(data: bytes) -> list[tuple[int, int, int, int]]:
    """An independent, pure-Python N-MNIST decoder: (x, y, t, p) of the real events."""
    out, overflow, wraps, prev = [], 0, 0, None
    for i in range(0, len(data), 5):
        x, y, b2, b3, b4 = data[i : i + 5]
        t = ((b2 & 0x7F) << 16) | (b3 << 8) | b4
        if y == 240:
            overflow += 1
        t += overflow * 2**13
        if prev is not None and t - prev < -(2**22):
            wraps += 1
        prev = t
        if y != 240:
            out.append((x, y, t + wraps * 2**23, b2 >> 7))
    return out


def mutate(rng, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = rng.integers(0, 4)
        if op == 0 and b:
            del b[int(rng.integers(0, len(b))) :]
        elif op == 1:
            b += bytes(rng.integers(0, 256, size=int(rng.integers(1, 9)), dtype=np.uint8))
        elif op == 2 and b:
            i = int(rng.integers(0, len(b)))
            b[i] = int(rng.integers(0, 256))
        elif op == 3 and b:
            i = int(rng.integers(0, len(b)))
            b[i:i] = bytes(rng.integers(0, 256, size=int(rng.integers(1, 5)), dtype=np.uint8))
    return bytes(b)


def case_nmnist(rng):
    n = int(rng.integers(0, 40))
    rows = rng.integers(0, 256, size=(n, 5), dtype=np.uint8)
    rows[rng.random(n) < 0.1, 1] = 240
    data = rows.tobytes()
    if rng.random() < 0.5:
        data = mutate(rng, data)
    valid = len(data) > 0 and len(data) % 5 == 0
    return ".bin", data, (ref_nmnist(data) if valid else None), "nmnist"


def _aedat_events(rng, n, bad):
    ev = []
    for _ in range(n):
        x = int(rng.integers(0, SENSOR)) if not bad or rng.random() < 0.7 else int(rng.integers(SENSOR, 2**15))
        y = int(rng.integers(0, SENSOR))
        ts = int(rng.integers(0, 2**31)) if not bad or rng.random() < 0.7 else -int(rng.integers(1, 2**31))
        ev.append((x, y, int(rng.integers(0, 2)), int(rng.random() < 0.9), ts))
    return ev


def case_aedat(rng):
    bad = rng.random() < 0.3
    header = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"
    packets, expected = [], []
    for _ in range(int(rng.integers(0, 4))):
        ev_type = 1 if rng.random() < 0.8 else int(rng.integers(0, 10))
        n = int(rng.integers(0, 6))
        spare = int(rng.integers(0, 3))
        overflow = int(rng.integers(0, 4)) if not bad or rng.random() < 0.8 else -1
        events = _aedat_events(rng, n, bad)
        body = b"".join(struct.pack("<Ii", (x << 17) | (y << 2) | (p << 1) | v, ts) for x, y, p, v, ts in events)
        packets.append(struct.pack("<hhiiiiii", ev_type, 1, 8, 4, overflow, n + spare, n, n) + body + b"\0" * 8 * spare)
        if ev_type == 1 and n:
            expected += [(x, y, (overflow << 31) | ts if ts >= 0 else None, p, overflow) for x, y, p, v, ts in events if v]
            if overflow < 0:
                expected.append((0, 0, None, 0, overflow))
    data = header + b"".join(packets)
    if rng.random() < 0.3:
        return ".aedat", mutate(rng, data), "unknown", "aedat"
    ok = all(x < SENSOR and y < SENSOR and t is not None and o >= 0 for x, y, t, p, o in expected)
    return ".aedat", data, ([(x, y, t, p) for x, y, t, p, _ in expected] if ok else None), "aedat"


def _npy_value_ok(x, y, t, p, scale):
    def whole(v, hi):
        return math.isfinite(v) and v == math.floor(v) and 0 <= v < hi

    if not (whole(x, SENSOR) and whole(y, SENSOR) and p in (0, 1)):
        return None
    if not math.isfinite(t) or t < 0:
        return None
    us = t * scale if isinstance(t, int) else round(float(t) * scale)
    return us if us < 2**63 and (isinstance(t, int) or t * scale < 2.0**63) else None


NPY_DTYPES = ["u1", "u2", "i2", "i4", "i8", "u8", "f4", "f8", "?", "c8", "U3"]


def case_npy(rng):
    n = int(rng.integers(0, 8))
    dt = np.dtype(NPY_DTYPES[int(rng.integers(0, len(NPY_DTYPES)))])
    cols = [rng.integers(0, SENSOR, n), rng.integers(0, SENSOR, n), rng.integers(0, 2, n), rng.integers(0, 10**7, n)]
    a = np.stack(cols, axis=1) if n else np.zeros((0, 4), dtype=np.int64)
    vals = a.astype(object)
    for _ in range(int(rng.integers(0, 3))) if n else ():
        i, j = int(rng.integers(0, n)), int(rng.integers(0, 4))
        vals[i, j] = [1000, -1, 7, 2**62, 1.5, float("nan"), float("inf"), 65535, 3_000_000, 128][int(rng.integers(0, 10))]
    structured = rng.random() < 0.25
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(action="ignore"):
            arr = np.array(vals.tolist() if n else np.zeros((0, 4)), dtype=dt).reshape(-1, 4)
    except (OverflowError, ValueError):
        arr = np.array(vals.tolist() if n else np.zeros((0, 4)), dtype=np.float64).reshape(-1, 4)
    if rng.random() < 0.15:
        arr = arr.reshape(-1)[: int(rng.integers(0, arr.size + 1))]  # wrong shape
    if structured and arr.ndim == 2 and arr.dtype.kind in "biuf":
        s = np.zeros(len(arr), dtype=[("x", arr.dtype), ("y", arr.dtype), ("t", arr.dtype), ("p", arr.dtype)])
        s["x"], s["y"], s["t"], s["p"] = arr[:, 0], arr[:, 1], arr[:, 3], arr[:, 2]
        arr = s
    buf = io.BytesIO()
    np.save(buf, arr)
    data = buf.getvalue()
    if rng.random() < 0.25:
        hdr_end = data.index(b"\n") + 1
        if rng.random() < 0.5:
            huge = f"({10 ** int(rng.integers(6, 13))}, 4)".encode()
            data = data[:hdr_end].replace(f"{arr.shape}".encode(), huge, 1) + data[hdr_end:]
        else:
            data = mutate(rng, data)
        return ".npy", data, "unknown", "npy"
    if arr.dtype.names:
        scale, rows = 1, [(r["x"].item(), r["y"].item(), r["t"].item(), r["p"].item()) for r in arr]
    elif arr.ndim == 2 and arr.dtype.kind in "biuf":
        scale, rows = 1000, [(r[0].item(), r[1].item(), r[3].item(), r[2].item()) for r in arr]
    else:
        return ".npy", data, None, "npy"  # not an event array: must be refused
    us = [_npy_value_ok(x, y, t, p, scale) for x, y, t, p in rows]
    if any(u is None for u in us):
        return ".npy", data, None, "npy"
    return ".npy", data, [(int(r[0]), int(r[1]), u, int(r[3])) for r, u in zip(rows, us, strict=True)], "npy"


def case_junk(rng):
    prefix = [b"", b"#!AER-DAT3.1\n", b"\x93NUMPY", b"#!AER-DAT3.1\r\n#!END-HEADER\r\n", b"#!AER-DAT2.0\r\n"]
    data = prefix[int(rng.integers(0, len(prefix)))] + bytes(rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8))
    suffix = [".bin", ".aedat", ".npy", ".txt", ""][int(rng.integers(0, 5))]
    return suffix, data, "unknown", "junk"


def reader_case(rng):
    return [case_nmnist, case_aedat, case_npy, case_junk][int(rng.integers(0, 4))](rng)


def run_reader(rng, d: Path) -> tuple[str, str]:
    from skipsnn.data import read_events

    suffix, data, expected, label = reader_case(rng)
    path = d / f"rec_{label}{suffix}"
    path.write_bytes(data)
    try:
        with time_limit(10):
            _, ev = read_events(path)
    except Hang:
        return "hang", label
    except SkipSNNError as e:
        if not one_line(str(e)) or path.name not in str(e):
            return "bad-message", f"{label}: {str(e)[:200]!r}"
        if expected not in ("unknown", None):
            return "nonsense", f"{label}: valid file refused: {e}"
        return "refused", label
    except Exception as e:  # noqa: BLE001 - the campaign counts these
        return "traceback", f"{label}: {e.__class__.__name__}: {str(e)[:200]}"
    got = list(zip(ev["x"].tolist(), ev["y"].tolist(), ev["t"].tolist(), ev["p"].tolist(), strict=True))
    if expected is None:
        return "nonsense", f"{label}: accepted a file that breaks a rule"
    if expected != "unknown" and got != expected:
        return "nonsense", f"{label}: decoded {got[:3]} instead of {expected[:3]}"
    sane = all(t >= 0 and p in (0, 1) and 0 <= x and 0 <= y for x, y, t, p in got)
    if suffix == ".npy" or data.startswith(b"#!AER-DAT3.1") and b"#Source 1: DVS128\r" in data:
        sane = sane and all(x < SENSOR and y < SENSOR for x, y, _, _ in got)
    return ("ok", label) if sane else ("nonsense", f"{label}: accepted {got[:3]}")


# ---- Configs --------------------

POOL = [0, -1, 1, 2, 7, 2**31, 2**32, 2**63, 10**30, 1e300, -1e300, 1e-300, float("nan"), float("inf"),
        0.5, 3.7, True, None, "", "x" * 300, "gestures", [], {}, [1, 2], {"a": 1}, 1e-7, 4096, 100001]


def _leaves(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(d, list) and d:
        for i, v in enumerate(d):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _set(d, path, value):
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


def config_text(rng) -> bytes:
    from skipsnn.config import DATASETS, default_config

    d = default_config(DATASETS[int(rng.integers(0, len(DATASETS)))]).to_dict()
    leaves = list(_leaves(d))
    for _ in range(int(rng.integers(0, 4))):
        path = leaves[int(rng.integers(0, len(leaves)))]
        v = POOL[int(rng.integers(0, len(POOL)))] if rng.random() < 0.7 else float(rng.normal() * 10 ** rng.integers(0, 6))
        _set(d, path, v)
    if rng.random() < 0.1:
        d[["bogus", 1, None][int(rng.integers(0, 3))]] = 1
    text = yaml.safe_dump(d, sort_keys=False)
    r = rng.random()
    if r < 0.05:
        return text.encode("utf-16")
    if r < 0.1:
        return ("stdp: &a [1, 2]\nbogus: *a\n" + text).encode()
    if r < 0.15:
        return ("stdp: " + "[" * int(rng.integers(10, 4000)) + "]" * 10 + "\n").encode()
    if r < 0.3:
        return mutate(rng, text.encode())
    return text.encode()


def sane_config(cfg) -> str | None:
    """Why an accepted config is nonsense (None if it is fine): checks made from the
    config's documented rules, not by calling its validation again."""
    from skipsnn.config import DATASETS, METHODS, skip_feasible
    from skipsnn.limits import LIMITS, machine_memory_bytes, training_memory_bytes

    values = {
        "dataset.n_bins": cfg.dataset.n_bins, "dataset.size": cfg.dataset.size,
        "dataset.seed": cfg.dataset.seed, "network.dt": cfg.network.dt,
        "network.v_th": cfg.network.v_th, "network.v_reset": cfg.network.v_reset,
        "network.readout.pool": cfg.network.readout.pool,
        "network.readout.tau_m": cfg.network.readout.tau_m,
        **{f"train.{k}": getattr(cfg.train, k) for k in ("epochs", "batch_size", "eval_batch_size", "num_threads", "lr", "weight_decay", "seed")},
    }
    for k, v in values.items():
        lo, hi = LIMITS[k]
        if v is not None and (isinstance(v, bool) or not lo <= v <= hi):
            return f"{k} = {v!r}"
    for layer in cfg.network.layers:
        for f in ("channels", "kernel", "stride"):
            v = getattr(layer, f)
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= LIMITS[f"network.layers[].{f}"][1]:
                return f"layer {f} = {v!r}"
    net, tr = cfg.network, cfg.train
    if cfg.dataset.name not in DATASETS or tr.method not in METHODS:
        return "unknown dataset or method"
    if len(net.dynamics) != net.n_dynamic or net.n_dynamic > min(la.channels for la in net.layers):
        return "dynamics"
    if any(not (d.tau_m > 0 and d.r_m > 0 and math.isfinite(d.a)) for d in net.dynamics) or net.v_th <= net.v_reset:
        return "neuron parameters"
    if not skip_feasible(len(net.layers), net.skip.n_skip, net.skip.l_start, net.skip.l_end):
        return "skip rule"
    if not (0 < tr.label_fraction <= 1 and 0 <= tr.val_fraction < 1):
        return "fractions"
    have = machine_memory_bytes()
    if have and training_memory_bytes(cfg)[0] > have:
        return "memory"
    return None


def run_config(rng, d: Path) -> tuple[str, str]:
    from skipsnn.config import Config

    path = d / "fuzz_config.yaml"
    path.write_bytes(config_text(rng))
    try:
        with time_limit(10):
            cfg = Config.load(path)
    except Hang:
        return "hang", "config"
    except SkipSNNError as e:
        return ("refused", "config") if one_line(str(e)) else ("bad-message", str(e)[:200])
    except Exception as e:  # noqa: BLE001
        return "traceback", f"config: {e.__class__.__name__}: {str(e)[:200]}"
    why = sane_config(cfg)
    return ("nonsense", f"config accepted with {why}") if why else ("ok", "config")


# ---- Command lines --------------------

NUMBERS = ["0", "-1", "1", "2.5", "1e300", "-1e300", "nan", "inf", "1e-300", "abc", "", "9" * 5000, str(2**70), "20", "0.05"]
BAD_TRAIN = [["--epochs", "0"], ["--epochs", str(2**70)], ["--seed", "-1"], ["--seed", str(2**32)],
             ["--threads", "0"], ["--threads", "100000"], ["--label-fraction", "nan"], ["--label-fraction", "1.5"],
             ["--dataset", "bogus"], ["--method", "bogus"], ["--epochs", "x"]]
BAD_DATA = [["--n-bins", "0"], ["--size", "0"], ["--n-bins", "-3"], ["--size", str(2**70)], ["--seed", "-1"],
            ["--split", "bogus"], ["--n-bins", "10000", "--size", "4096"]]


def cli_argv(rng, d: Path) -> tuple[list[str], bool, Path | None]:
    """``(argv, must_fail, out)``: heavy commands always carry one bad option."""
    pick = lambda seq: seq[int(rng.integers(0, len(seq)))]  # noqa: E731
    kind = pick(["inspect", "data", "train", "search", "reproduce", "plot", "pool", "theory", "junk"])
    out = d / "out"
    if kind == "plot":  # `reproduce plot` on a damaged comparison: drawn or refused, no traceback
        folder = d / "cmp"
        folder.mkdir(exist_ok=True)
        (folder / "results.json").write_bytes(comparison_json(rng))
        return ["reproduce", "plot", str(folder), "--out", str(d / "pd.png")], False, None
    if kind == "pool":  # `reproduce pool` on two comparisons, either damaged: joined or refused
        folders = []
        for i, first in enumerate((0, pick([0, 2, 10]))):
            folder = d / f"cmp{i}"
            folder.mkdir(exist_ok=True)
            (folder / "results.json").write_bytes(comparison_json(rng, first))
            folders.append(str(folder))
        level = ["--level", pick(["0.975", "0.95", "1", "nan", "x"])] if rng.random() < 0.5 else []
        return ["reproduce", "pool", *folders, "--out", str(d / "pooled"), *level], False, None
    if kind == "inspect":
        suffix, data, _, label = reader_case(rng)
        f = d / f"in_{label}{suffix}"
        f.write_bytes(data)
        return ["data", "inspect", str(f), *(["--json"] if rng.random() < 0.5 else [])], False, None
    if kind == "data":
        name = pick(["gestures", "digits", "dvsgesture", "ncaltech101", "bogus"])
        extra = ["--out", str(d / "p.png")] if rng.random() < 0.5 else []
        argv = ["data", "preview" if extra else "prepare", name, *extra, *pick(BAD_DATA)]
        return argv, True, None
    if kind in ("train", "search", "reproduce"):
        bad = pick(BAD_TRAIN[:4] + [["--config", str(d / "fuzz_bad.yaml")]])
        if bad[0] == "--config":
            (d / "fuzz_bad.yaml").write_bytes(pick([b"train: {epochs: 0}\n", b"a: &a [1]\nb: *a\n", "x".encode("utf-16"), b"train:\n  seed: -5\n"]))
        if kind == "train":
            bad = pick([bad, *BAD_TRAIN])
            return ["train", "--out", str(out), "--no-progress", *bad], True, out
        if kind == "search":
            bad = pick([bad, ["--budget-v", "0"], ["--workers", "0"], ["--final-epochs", "0"]])
            bad = bad if bad[0] != "--threads" else ["--workers", "0"]
            return ["search", "--out", str(out), "--no-progress", *bad], True, out
        if rng.random() < 0.3:  # `compare configs` with an --against that cannot be paired
            other = d / "fuzz_other.yaml"
            other.write_bytes(pick([b"dataset: {n_bins: 7}\n", b"dataset: {seed: 3}\n", b"train: {epochs: 0}\n", b"[1, 2]\n", b"\xff\xfe"]))
            against = pick([str(other), str(d / "missing.yaml")])
            argv = ["reproduce", "compare", "configs", "--dataset", "rhythms", "--against", against]
            return [*argv, "--out", str(out), "--no-progress"], True, out
        bad = pick([bad, ["--seeds", "0"], ["--fractions", "nan"], ["--dataset", "bogus"]])
        bad = bad if bad[0] not in ("--threads", "--seed") else ["--seeds", "0"]
        return ["reproduce", pick(["table3", "ablation"]), "--out", str(out), "--no-progress", *bad], True, out
    if kind == "theory":
        sub = pick(["simulate", "response-rate", "conductance", "cutoff", "pathways", "approximate"])
        argv = ["theory", sub]
        if sub == "pathways":
            argv += ["--dynamics", pick(["2,3,2", "1", "", "a,b", "-1,2", "0", str(2**70), "999999,999999"])]
            if rng.random() < 0.5:
                argv += ["--skip", pick(["1:3", "0:2", "3:1", "x", "1:99", "-5:2"])]
        elif sub == "approximate":
            argv += ["--t-in", pick(NUMBERS), "--t-out", pick(NUMBERS), "--eps", pick(NUMBERS)]
        else:
            if sub == "conductance":
                argv += ["--gamma", pick(["1", "2", "0", "-3", str(2**70), "x"])]
            for opt in ("--period", "--g", "--tau-m", "--r-m", "--a", "--v-th"):
                if rng.random() < 0.3:
                    argv += [opt, pick(NUMBERS)]
        return [*argv, *(["--json"] if rng.random() < 0.5 else [])], False, None
    vocab = ["theory", "data", "inspect", "list", "simulate", "pathways", "--json", "--period", "x", "--bogus", "-h", str(d / "nope.bin")]
    return [pick(vocab) for _ in range(int(rng.integers(0, 5)))], False, None


JUNK_VALUES = [None, "", "x", -1, 0, 1, 2.5, 1e308, -1e308, True, [], {}, [1], {"a": 1}, 2**70]


def comparison_json(rng, first_seed: int = 0) -> bytes:
    """A small comparison's results.json, with one field changed, dropped, or bytes flipped."""
    pick = lambda seq: seq[int(rng.integers(0, len(seq)))]  # noqa: E731
    runs = [
        {"variant": v, "seed": s, "fraction": 1.0, "test_accuracy": float(rng.uniform(0, 1)),
         "params": 10, "epochs": 2, "method": "bptt"}
        for v in ("a", "b")
        for s in range(first_seed, first_seed + int(rng.integers(1, 5)))
    ]
    doc = {"variant_set": "skip", "config": {"train": {"epochs": 2}}, "level": 0.95,
           "runs": runs, "rows": [{"variant": "a"}, {"variant": "b"}]}
    how = pick(["field", "drop", "bytes", "top", "none"])
    if how == "field":
        target = pick([*runs, *doc["rows"]])
        fields = ["variant", "seed", "fraction", "test_accuracy", "params", "epochs", "method"]
        target[pick(fields)] = pick(JUNK_VALUES)
    elif how == "drop":
        del pick(runs)[pick(["variant", "seed", "fraction", "test_accuracy"])]
    elif how == "top":
        doc[pick(["runs", "rows", "variant_set", "config", "level", "variants"])] = pick(JUNK_VALUES)
    text = json.dumps(doc).encode()
    return mutate(rng, text) if how == "bytes" else text


def run_cli(rng, d: Path) -> tuple[str, str]:
    from skipsnn.cli import main

    argv, must_fail, out = cli_argv(rng, d)
    label = " ".join(a if len(a) < 40 else a[:20] + "..." for a in argv)[:160]
    cache = d / "cache"
    os.environ["SKIPSNN_CACHE"] = str(cache)
    err, stdout = io.StringIO(), io.StringIO()
    try:
        with time_limit(60), contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdout):
            try:
                rc = main(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except Hang:
        return "hang", label
    except Exception as e:  # noqa: BLE001
        return "traceback", f"{label}: {e.__class__.__name__}: {str(e)[:200]}"
    msg = err.getvalue()
    # `theory approximate` exits 1, by design and documented, when no network is found.
    if rc == 1 and argv[:2] == ["theory", "approximate"] and not msg.strip():
        return ("nonsense", f"{label}: none found, yet asked to fail") if must_fail else ("ok", label)
    if "Traceback" in msg or rc not in (0, 2):
        return "traceback", f"{label}: rc={rc} {msg[-300:]!r}"
    if rc == 2:
        last = msg.strip().splitlines()[-1] if msg.strip() else ""
        direct = msg.startswith("skipsnn: error:")
        if ": error: " not in last or (direct and msg.strip().count("\n")):
            return "bad-message", f"{label}: {msg[-300:]!r}"
        if out is not None and out.exists() or cache.exists() and any(cache.rglob("*.pt")):
            return "nonsense", f"{label}: refused but wrote files"
        return "refused", label
    if must_fail:
        return "nonsense", f"{label}: accepted"
    return "ok", label


# ---- Campaign --------------------

KINDS = {"readers": run_reader, "configs": run_config, "cli": run_cli}


def warm_imports() -> None:
    """Import the heavy libraries the commands load lazily, before any case's time limit.

    A limit that fires inside a first ``import torch`` (slow on a loaded machine) leaves a
    half-initialized module behind, and every later case then fails on it; that is the
    harness's fault, not the command's, so the imports happen here, untimed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401
    import torch.fx  # noqa: F401

    import skipsnn.experiments.compare  # noqa: F401
    import skipsnn.train  # noqa: F401


def campaign(kind: str, cases: int, seed: int = 0) -> tuple[Counter, list[str]]:
    """Run ``cases`` cases of ``kind``; ``(outcome counts, descriptions of bad cases)``."""
    warm_imports()
    counts: Counter = Counter()
    bad: list[str] = []
    for i in range(cases):
        rng = np.random.default_rng([seed, i, list(KINDS).index(kind)])
        with tempfile.TemporaryDirectory() as tmp:
            outcome, detail = KINDS[kind](rng, Path(tmp))
        counts[outcome] += 1
        if outcome in BAD:
            bad.append(f"{kind}[seed={seed}, case={i}] {outcome}: {detail}")
    return counts, bad


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=1000, help="cases per kind (1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", default="readers,configs,cli")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    report, failures = {}, []
    for kind in args.kinds.split(","):
        t = time.perf_counter()
        counts, bad = campaign(kind, args.cases, args.seed)
        report[kind] = {"cases": args.cases, **dict(counts), "seconds": round(time.perf_counter() - t, 1)}
        failures += bad
        if not args.json:
            print(f"{kind}: {report[kind]}", flush=True)
    if args.json:
        print(json.dumps({"report": report, "failures": failures[:50]}, indent=2))
    else:
        for line in failures[:50]:
            print(line)
        total = sum(r["cases"] for r in report.values())
        print(f"{total} cases, {len(failures)} with a traceback, hang, nonsense or bad message")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
