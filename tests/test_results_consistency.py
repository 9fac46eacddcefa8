"""The committed result tables agree with the committed JSON, and the docs quote them exactly.

Every table under ``docs/results/<dir>/`` is regenerated from that folder's
``results.json`` with the function that wrote it; every line of it must then appear,
as is, in ``docs/results/README.md``. ``docs/stdp.md`` quotes the gestures STDP runs.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from skipsnn.experiments.compare import compare_markdown
from skipsnn.experiments.protocol import VARIANTS as PATHWAY_VARIANTS
from skipsnn.experiments.protocol import ablation_markdown
from skipsnn.experiments.search_compare import EXPERIMENT as SEARCH_COMPARE
from skipsnn.experiments.search_compare import search_markdown
from skipsnn.experiments.tables import table3_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"
RESULTS = DOCS / "results"
README = (RESULTS / "README.md").read_text()


def _folders(table: str) -> list[Path]:
    return sorted(p.parent for p in RESULTS.glob(f"*/{table}"))


def _is_search(folder: Path) -> bool:
    data = json.loads((folder / "results.json").read_text())
    return isinstance(data, dict) and data.get("experiment") == SEARCH_COMPARE


def _table_lines(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|") and "---" not in line]


def _in_readme(md: str, folder: Path) -> None:
    for line in _table_lines(md)[1:]:  # the header names the folder's dataset
        assert line in README, f"{folder.name}: README.md lacks the row {line!r}"


@pytest.mark.parametrize(
    "folder", [f for f in _folders("compare.md") if not _is_search(f)], ids=lambda p: p.name
)
def test_compare_tables_match_their_json(folder):
    md = (folder / "compare.md").read_text()
    data = json.loads((folder / "results.json").read_text())
    dataset = re.match(r"\| (\S+) \(", md).group(1)
    assert (
        compare_markdown(
            dataset,
            data["variant_set"],
            data["rows"],
            data.get("level", 0.95),
            data.get("variants"),
        )
        == md
    )
    by_variant = {}
    for run in data["runs"]:
        if run["test_accuracy"] is not None:
            by_variant.setdefault((run["variant"], run["fraction"]), []).append(run)
    for row in data["rows"]:
        runs = sorted(
            by_variant.get((row["variant"], row["fraction"]), []), key=lambda r: r["seed"]
        )
        assert row["per_seed"] == pytest.approx([100 * r["test_accuracy"] for r in runs])
    _in_readme(md, folder)


@pytest.mark.parametrize(
    "folder", [f for f in _folders("compare.md") if _is_search(f)], ids=lambda p: p.name
)
def test_search_comparison_matches_its_json(folder):
    md = (folder / "compare.md").read_text()
    data = json.loads((folder / "results.json").read_text())
    assert search_markdown(data) == md
    st = data["settings"]
    runs = data["runs"]
    seeds = {s: sorted(r["seed"] for r in runs if r["strategy"] == s) for s in st["strategies"]}
    first = st.get("first_seed", 0)
    expected = list(range(first, first + st["seeds"]))
    assert all(v == expected for v in seeds.values()), seeds  # paired, complete
    assert {r["trials"] for r in runs} == {st["trials_per_search"]}  # equal budgets
    assert len({r["commit"] for r in runs}) == 1 and not any(r["src_modified"] for r in runs)
    for key, scale in (("test_accuracy", 100), ("best_val_loss", 1)):
        for row in data["rows"][key]:
            mine = sorted(
                (r for r in runs if r["strategy"] == row["variant"]), key=lambda r: r["seed"]
            )
            assert row["per_seed"] == pytest.approx([scale * r[key] for r in mine])
    _in_readme(md, folder)
    assert f"`{runs[0]['commit'][:7]}`" in README  # the doc names the commit the run used


@pytest.mark.parametrize("folder", _folders("table3.md"), ids=lambda p: p.name)
def test_table3_matches_its_json(folder):
    md = (folder / "table3.md").read_text()
    results = json.loads((folder / "results.json").read_text())
    dataset = re.match(r"\| (\S+),", md).group(1)
    fractions = sorted({r["fraction"] for r in results}, reverse=True)
    assert table3_markdown(dataset, results, fractions) == md
    _in_readme(md, folder)


@pytest.mark.parametrize("folder", _folders("ablation.md"), ids=lambda p: p.name)
def test_ablation_matches_its_json(folder):
    md = (folder / "ablation.md").read_text()
    rows = json.loads((folder / "results.json").read_text())
    dataset = re.match(r"\| (\S+) \|", md).group(1)
    assert ablation_markdown(dataset, rows) == md
    _in_readme(md, folder)


def test_diagnosis_rows_match_their_json():
    runs = json.loads((RESULTS / "rhythms_diagnosis" / "results.json").read_text())
    for r in runs:
        train = "—" if r["train_accuracy"] is None else f"{100 * r['train_accuracy']:.1f}"
        line = (
            f"| {r['run']} | {r['seed']} | {r['params']:,} | {train} "
            f"| {100 * r['val_accuracy']:.1f} | {100 * r['test_accuracy']:.1f} |"
        )
        assert line in README, line


def test_stdp_page_quotes_the_gestures_runs():
    results = json.loads((RESULTS / "table3_gestures" / "results.json").read_text())
    stdp = (DOCS / "stdp.md").read_text()
    cells = []
    for f in (1.0, 0.5, 0.3, 0.1):
        runs = [r for r in results if r["method"] == "stdp" and r["fraction"] == f]
        runs.sort(key=lambda r: r["seed"])
        cells.append(" / ".join(f"{100 * r['test_accuracy']:.1f}" for r in runs))
    seeds = sorted({r["seed"] for r in results if r["method"] == "stdp"})
    per_seed = f"| STDP (seeds {'/'.join(map(str, seeds))}) | " + " | ".join(cells) + " |"
    assert per_seed in stdp
    table = (RESULTS / "table3_gestures" / "table3.md").read_text()
    stdp_row = next(line for line in table.splitlines() if line.startswith("| mMND, STDP"))
    means = stdp_row.split("|")[2:6]
    assert "| STDP mean ± 95% CI |" + "|".join(means) + "|" in stdp
    for method, label in (("stdp", "STDP + readout"), ("bptt", "BPTT, 10 epochs")):
        row = next(
            line for line in table.splitlines() if line.startswith(f"| mMND, {method.upper()}")
        )
        line = next(x for x in stdp.splitlines() if x.startswith(f"| {label}"))
        assert line.split("|")[2:6] == row.split("|")[2:6], (line, row)
    assert "17.6 points" not in stdp.replace("+17.6 points from STDP learning", "")


def test_transfer_check_is_quoted_as_computed():
    # the temporal config on gestures: per-seed values, spread, and the unpaired gap to
    # the default config's Table 3 row, as the README words them
    def bptt_full(folder: str) -> np.ndarray:
        runs = json.loads((RESULTS / folder / "results.json").read_text())
        runs = [r for r in runs if r["method"] == "bptt" and r["fraction"] == 1.0]
        return np.array([100 * r["test_accuracy"] for r in sorted(runs, key=lambda r: r["seed"])])

    transfer, default = bptt_full("transfer_gestures"), bptt_full("table3_gestures")
    assert len(transfer) == len(default) == 5
    flat = " ".join(README.split())
    per_seed = ", ".join(f"{a:.1f}" for a in transfer)
    assert f"(sample std {transfer.std(ddof=1):.1f}): {transfer.mean():.1f}% test" in flat
    assert f"(per seed {per_seed})" in flat
    welch = stats.ttest_ind(transfer, default, equal_var=False).confidence_interval()
    gap = transfer.mean() - default.mean()
    assert gap > 0 and welch.low > 0  # "higher", with an interval above 0
    assert (
        f"{gap:.1f} points higher (Welch 95% interval {welch.low:.1f} to {welch.high:.1f})"
    ) in flat


def test_readout_diagnosis_is_quoted_as_computed():
    # each choice the rhythms config replaced, paired against it over 5 seeds
    data = json.loads((RESULTS / "readout_rhythms" / "results.json").read_text())
    runs: dict[str, list[dict]] = {}
    for r in data["runs"]:
        runs.setdefault(r["variant"], []).append(r)
    ref, *others = runs
    quoted = []
    for name in others:
        d = [100 * (a["test_accuracy"] - b["test_accuracy"]) for a, b in
             zip(runs[name], runs[ref], strict=True)]  # fmt: skip
        assert [a["seed"] for a in runs[name]] == [b["seed"] for b in runs[ref]] == list(range(5))
        mean, half = np.mean(d), stats.t.ppf(0.975, 4) * np.std(d, ddof=1) / np.sqrt(5)
        assert mean + half < 0, name  # "paired 95% intervals all below 0"
        row = next(r for r in data["rows"] if r["variant"] == name)
        assert row["diff_mean"] == pytest.approx(mean) and row["diff_ci95"] == pytest.approx(half)
        quoted.append(f"{row['diff_mean']:.1f} ± {row['diff_ci95']:.1f}")  # as the table rounds
    training = " ".join((DOCS / "training.md").read_text().split())
    assert (
        f"a mean over time {quoted[0]} points, a flattened map {quoted[1]}, both {quoted[2]}, "
        f"and calibrating the layers to fire at 5% {quoted[3]}"
    ) in training
    flat = " ".join(README.split())

    def train_range(name: str) -> str:
        acc = [100 * r["train_accuracy"] for r in runs[name]]
        return f"{min(acc):.1f}-{max(acc):.1f}%"

    assert all(r["train_accuracy"] == 1.0 for r in runs["readout flattened, sum over time"])
    assert f"(training {train_range('readout pooled, mean over time')})" in flat
    calibrated = "layers calibrated to fire at 5% (init_rate 0.05)"
    assert f"({train_range(calibrated)} against {train_range(ref)})" in flat


def test_timescales_diagnosis_is_reported_as_unresolved():
    data = json.loads((RESULTS / "timescales_rhythms" / "results.json").read_text())
    rows = [r for r in data["rows"] if not r["reference"]]
    assert len(rows) == 3 and all(r["diff_n"] == 5 for r in rows)
    for r in rows:  # "every interval includes 0"
        assert abs(r["diff_mean"]) < r["diff_ci95"], r["variant"]
    flat = " ".join(README.split())
    d = [f"{r['diff_mean']:.1f} ± {r['diff_ci95']:.1f}" for r in rows]
    assert f"(`tau_m` 32) {d[0]} points" in flat and f"trained by BPTT) {d[1]}" in flat
    assert f"the same parameters) {d[2]}: every interval includes 0" in flat


def test_capacity_check_is_quoted_as_computed():
    data = json.loads((RESULTS / "capacity_rhythms" / "results.json").read_text())
    runs: dict[str, list[dict]] = {}
    for r in data["runs"]:
        runs.setdefault(r["variant"], []).append(r)

    def train_range(name: str) -> str:
        acc = [100 * r["train_accuracy"] for r in runs[name]]
        return f"{min(acc):.1f}-{max(acc):.1f}%"

    ref, longer, wider = runs
    rows = [r for r in data["rows"] if not r["reference"]]
    assert all(abs(r["diff_mean"]) < r["diff_ci95"] for r in rows)  # "both including 0"
    d = [f"{r['diff_mean']:.1f} ± {r['diff_ci95']:.1f}" for r in rows]
    flat = " ".join(README.split())
    assert (
        f"from {train_range(ref)} (the config) to {train_range(longer)} with 80 epochs and "
        f"{train_range(wider)} with twice the channels, while test accuracy moves by {d[0]} and "
        f"{d[1]} points"
    ) in flat


def _runs_by_variant(folder: str) -> tuple[dict, dict[str, list[dict]]]:
    data = json.loads((RESULTS / folder / "results.json").read_text())
    runs: dict[str, list[dict]] = {}
    for r in sorted(data["runs"], key=lambda r: r["seed"]):
        runs.setdefault(r["variant"], []).append(r)
    return data, runs


def _paired(a: list[dict], b: list[dict]) -> tuple[float, float]:
    """Mean and 95% half-width of b - a over shared seeds, in points."""
    assert [r["seed"] for r in a] == [r["seed"] for r in b] == list(range(5))
    d = [100 * (y["test_accuracy"] - x["test_accuracy"]) for x, y in zip(a, b, strict=True)]
    return float(np.mean(d)), float(stats.t.ppf(0.975, 4) * np.std(d, ddof=1) / np.sqrt(5))


def test_training_size_curve_is_quoted_as_computed():
    data, runs = _runs_by_variant("data_rhythms")
    names = list(runs)
    mmnd, gru = names[:5], names[5:]  # sizes 100, 50, 200, 400, 800 / 50, 100, 200, 400, 800
    mmnd = [mmnd[1], mmnd[0], *mmnd[2:]]  # in size order
    rows = {r["variant"]: r for r in data["rows"]}
    flat = " ".join(README.split())
    d = [rows[n] for n in mmnd[2:]]
    assert all(r["diff_mean"] - r["diff_ci95"] > 0 for r in d)  # "every interval excludes 0"
    assert rows[mmnd[0]]["diff_mean"] + rows[mmnd[0]]["diff_ci95"] < 0
    q = [f"{rows[n]['diff_mean']:.1f} ± {rows[n]['diff_ci95']:.1f}" for n in mmnd if n in rows
         and not rows[n]["reference"]]  # fmt: skip
    assert (
        f"50 per class {q[0]} points, 200 per class {q[1]}, 400 per class {q[2]}, "
        f"800 per class {q[3]}"
    ) in flat
    means = [rows[n]["mean"] for n in mmnd]
    assert means == sorted(means)  # "rises at every doubling"
    assert "(" + ", ".join(f"{m:.1f}" for m in means) + "%)" in flat
    gaps = [_paired(runs[m], runs[g]) for m, g in zip(mmnd, gru, strict=True)]
    g = [f"{m:.1f} ± {h:.1f}" for m, h in gaps]
    assert (
        f"conv-GRU minus mMND at the same size: {g[0]} points at 50 per class, {g[1]} at 100, "
        f"{g[2]} at 200, {g[3]} at 400 and {g[4]} at 800"
    ) in flat
    resolved = [abs(m) > h for m, h in gaps]
    assert resolved == [False, True, False, False, True]  # "at 100 per class only ... 800 only"
    assert gaps[1][0] < 0 < gaps[4][0]

    def span(name: str, key: str) -> str:
        a = [100 * r[key] for r in runs[name]]
        return f"{min(a):.1f}-{max(a):.1f}%"

    # the GRU's training accuracy (recorded since the rerun): it memorizes small sets
    fits = [(span(n, "train_accuracy"), span(n, "test_accuracy")) for n in gru]
    assert (
        f"{fits[0][0]} at 50 per class and {fits[1][0]} at 100, while it tests at {fits[0][1]} "
        f"and {fits[1][1]}; at 800 per class it trains at {fits[4][0]} and tests at {fits[4][1]}"
    ) in flat
    at200 = [100 * r["test_accuracy"] for r in runs[gru[2]]]
    assert f"equally ({fits[2][0]})" in flat
    assert f"seeds 0 and 2 memorize ({at200[0]:.1f} and {at200[2]:.1f}%)" in flat
    assert f"({at200[1]:.1f}, {at200[3]:.1f}, {at200[4]:.1f}%)" in flat
    training = " ".join((DOCS / "training.md").read_text().split())
    assert f"it reaches {rows[mmnd[4]]['mean']:.1f} ± {rows[mmnd[4]]['ci95']:.1f}%" in training
    assert f"then ahead by {g[4]} points" in training


def test_training_longer_or_wider_at_400_per_class_is_reported_as_unresolved():
    data, runs = _runs_by_variant("data_large_rhythms")
    ref, longer, wider = runs
    rows = [r for r in data["rows"] if not r["reference"]]
    assert all(abs(r["diff_mean"]) < r["diff_ci95"] for r in rows)  # "both including 0"
    q = [f"{r['diff_mean']:.1f} ± {r['diff_ci95']:.1f}" for r in rows]

    def train_range(name: str) -> str:
        acc = [100 * r["train_accuracy"] for r in runs[name]]
        return f"{min(acc):.1f}-{max(acc):.1f}%"

    flat = " ".join(README.split())
    assert (
        f"80 epochs {q[0]} points, channels doubled {q[1]}, both intervals including 0, while "
        f"training accuracy rises to {train_range(longer)} and {train_range(wider)}"
    ) in flat
    _, curve = _runs_by_variant("data_rhythms")  # "equal those of data_rhythms seed for seed"
    assert [r["test_accuracy"] for r in runs[ref]] == [
        r["test_accuracy"] for r in curve["400 per class"]
    ]


def test_regularized_gru_is_quoted_as_computed():
    _, runs = _runs_by_variant("gru_regularized_rhythms")
    mmnd, *grus = runs  # plain, weight decay 0.001, weight decay 0.01, half the epochs
    assert [r["seed"] for r in runs[mmnd]] == list(range(10))

    def acc(name: str, key: str = "test_accuracy", n: int = 10) -> np.ndarray:
        return np.array([100 * r[key] for r in runs[name][:n]])

    def paired(name: str, n: int = 10, q: float = 0.975) -> tuple[float, float]:
        d = acc(name, n=n) - acc(mmnd, n=n)
        return float(d.mean()), float(stats.t.ppf(q, n - 1) * d.std(ddof=1) / np.sqrt(n))

    def span(name: str) -> str:
        a = acc(name, "train_accuracy")
        return f"{a.min():.1f}-{a.max():.1f}%"

    flat = " ".join(README.split())
    g = [f"{m:.1f} ± {h:.1f}" for m, h in map(paired, grus)]
    assert (
        f"{g[0]} points unregularized, {g[1]} with weight decay 0.001, {g[2]} with weight "
        f"decay 0.01, {g[3]} with half the epochs"
    ) in flat
    wide = [paired(name, q=1 - 0.025 / 4) for name in grus]  # Bonferroni over four settings
    assert all(m + h < 0 for m, h in wide)  # "every one still excludes 0"
    assert f"± {wide[0][1]:.1f}, {wide[1][1]:.1f}, {wide[2][1]:.1f} and {wide[3][1]:.1f}" in flat
    nearest = max(grus, key=lambda name: paired(name)[0])
    assert (
        nearest == grus[1] and f"(weight decay 0.001), is {-paired(nearest)[0]:.1f} points" in flat
    )
    assert f"is {span(grus[0])} over seeds 0-9, the mMND network's {span(mmnd)}" in flat
    assert f"{span(grus[1])} with weight decay 0.001 and {span(grus[3])} with half the" in flat
    assert np.allclose(acc(grus[2]), 100 / 6)  # weight decay 0.01: chance on every seed
    first = ", ".join(f"{m:.1f} ± {h:.1f}" for m, h in (paired(name, n=5) for name in grus))
    assert f"GRU minus mMND {first}" in flat
    first_wide = [paired(name, n=5, q=1 - 0.025 / 4) for name in grus]
    assert [m + h < 0 for m, h in first_wide] == [False, False, True, False]
    # seeds 0-4 of the mMND network and the plain GRU are data_rhythms' runs, seed for seed
    _, curve = _runs_by_variant("data_rhythms")
    for here, there in (
        (mmnd, "mMND, 100 training samples per class (the default)"),
        (grus[0], "conv-GRU (same budget), 100 per class (the default)"),
    ):
        assert [r["test_accuracy"] for r in runs[here][:5]] == [
            r["test_accuracy"] for r in curve[there]
        ]
    training = " ".join((DOCS / "training.md").read_text().split())
    assert f"(training accuracy {span(grus[0])})" in training
    assert (
        f"settings: {-paired(grus[1])[0]:.1f} ± {paired(grus[1])[1]:.1f} points behind" in training
    )


def test_tuned_gru_is_quoted_as_computed():
    """The declared five-way test of docs/results/README.md: which GRU settings stay
    resolved behind the mMND network, and the numbers quoted for them."""
    _, runs = _runs_by_variant("gru_tuned_rhythms")
    mmnd, plain, dropout, averaged, half, both = runs
    assert [r["seed"] for r in runs[mmnd]] == list(range(10))

    def acc(name: str, key: str = "test_accuracy") -> np.ndarray:
        return np.array([100 * r[key] for r in runs[name]])

    def paired(name: str, ref: str = mmnd, q: float = 0.975) -> tuple[float, float]:
        d = acc(name) - acc(ref)
        return float(d.mean()), float(stats.t.ppf(q, 9) * d.std(ddof=1) / np.sqrt(10))

    flat = " ".join(README.split())
    grus = [plain, dropout, averaged, half, both]
    wide = [paired(name, q=1 - 0.025 / 5) for name in grus]  # Bonferroni over five
    # as declared: withdrawn, because some interval includes 0 and none lies above it
    assert [m + h < 0 for m, h in wide] == [True, True, False, True, False]
    assert not any(m - h > 0 for m, h in wide)
    assert (
        "(± " + ", ".join(f"{h:.1f}" for _, h in wide[:4]) + f" and {wide[4][1]:.1f} points" in flat
    )
    m, h = paired(averaged)
    assert f"is {-m:.1f} ± {h:.1f} points behind (± {wide[2][1]:.1f} widened)" in flat
    assert f"runs from {-(m + h):.1f} to +{-(m - h):.1f} points" in flat  # mMND - GRU
    wins = int((acc(averaged) > acc(mmnd)).sum())
    assert f"beats the mMND network on {wins} of 10 seeds" in flat
    g, gh = paired(averaged, ref=plain)
    assert f"the GRU gains {g:.1f} ± {gh:.1f} points, paired" in flat

    def span(name: str) -> str:
        a = acc(name, "train_accuracy")
        return f"{a.min():.1f}-{a.max():.1f}%"

    assert (
        f"training accuracy {span(averaged)} (unchanged GRU {span(plain)}, mMND network {span(mmnd)})"
        in flat
    )
    # the mMND network and the unchanged GRU repeat gru_regularized_rhythms bit for bit
    _, before = _runs_by_variant("gru_regularized_rhythms")
    for name in (mmnd, plain):
        for key in ("test_accuracy", "val_accuracy", "train_accuracy"):
            assert [r[key] for r in runs[name]] == [r[key] for r in before[name]]
    training = " ".join((DOCS / "training.md").read_text().split())
    assert f"does: {-m:.1f} ± {h:.1f} points behind, not resolved" in training


def test_gru_readout_on_gestures_and_digits_is_quoted_as_computed():
    """The declared two-way test on gestures and digits, and the figures quoted with it."""
    flat = " ".join(README.split())
    gaps, widened, readout = [], [], []
    for ds in ("gestures", "digits"):
        _, runs = _runs_by_variant(f"gru_readout_{ds}")
        mmnd, last, mean = runs
        for gru in (last, mean):
            m, h = _paired(runs[mmnd], runs[gru])
            d = [
                100 * (g["test_accuracy"] - r["test_accuracy"])
                for r, g in zip(runs[mmnd], runs[gru], strict=True)
            ]
            wide = float(stats.t.ppf(1 - 0.025 / 2, 4) * np.std(d, ddof=1) / np.sqrt(5))
            assert m + wide < 0 and max(d) < 0  # resolved behind, and behind on every seed
            gaps.append(f"{-m:.1f} ± {h:.1f}")
            widened.append(f"{wide:.1f}")
        readout.append("{:.1f} ± {:.1f}".format(*_paired(runs[last], runs[mean])))
        # against the committed default-settings run and raw readout of the same seeds
        _, base = _runs_by_variant(f"baselines_{ds}")
        gain = _paired(base["mMND, BPTT"], runs[mmnd])
        over_raw = _paired(base["raw events, 2x2 grid x 4 windows"], runs[mmnd])
        if ds == "digits":
            assert (
                f"{over_raw[0]:.1f} ± {over_raw[1]:.1f} points above the raw-event readout" in flat
            )
        readout.append("{:.1f} ± {:.1f}".format(*gain))
        # the unchanged GRU against the gru_lr run of the other host
        _, before = _runs_by_variant(f"gru_lr_{ds}")
        old = [100 * r["test_accuracy"] for r in before["conv-GRU (same budget)"]]
        new = [100 * r["test_accuracy"] for r in runs[last]]
        assert max(abs(a - b) for a, b in zip(old, new, strict=True)) <= 1.0
    assert (
        f"{gaps[0]} points behind the mMND network on gestures and {gaps[2]} on digits, and "
        f"with its hidden state averaged over time {gaps[1]} and {gaps[3]}"
    ) in flat
    assert f"(± {widened[0]}, {widened[1]} and ± {widened[2]}, {widened[3]})" in flat
    assert f"by {readout[0]} points on gestures and {readout[2]} on digits" in flat
    assert f"{readout[1]} and {readout[3]} points above its default" in flat


def test_data_readout_is_quoted_as_computed():
    """The readout-over-time GRU at 200 and 800 per class, paired across folders with
    data_rhythms (same seeds, splits and test set)."""
    flat = " ".join(README.split())
    _, new = _runs_by_variant("data_readout_rhythms")
    _, old = _runs_by_variant("data_rhythms")
    quoted = {}
    for n in (800, 200):
        gru = new[f"conv-GRU, readout averaged over time, {n} per class"]
        assert {r["epochs"] for r in gru} == {40}
        quoted[n] = (
            _paired(old[f"{n} per class"], gru),
            _paired(old[f"conv-GRU (same budget), {n} per class"], gru),
        )
    (m8, h8), (l8, hl8) = quoted[800]
    assert m8 - h8 > 0  # resolved ahead of the mMND network at 800 per class
    assert f"is {m8:.1f} ± {h8:.1f} points ahead of the mMND network" in flat
    assert f"the readout changes the GRU by {l8:.1f} ± {hl8:.1f} points" in flat
    (m2, h2), (l2, hl2) = quoted[200]
    assert abs(m2) < h2 and abs(l2) < hl2  # neither resolved
    assert f"{m2:.1f} ± {h2:.1f} points from the mMND network and {l2:.1f} ± {hl2:.1f}" in flat


def test_data_readout_at_400_and_50_is_quoted_as_computed():
    """The declared rule: the sentence "no size shows the mMND network resolved ahead" is
    kept only if neither interval of this GRU minus the mMND network lies below 0."""
    flat = " ".join(README.split())
    training = " ".join((DOCS / "training.md").read_text().split())
    _, new = _runs_by_variant("data_readout_more_rhythms")
    _, old = _runs_by_variant("data_rhythms")
    _, mid = _runs_by_variant("data_readout_rhythms")
    gru = {n: new[f"conv-GRU, readout averaged over time, {n} per class"] for n in (400, 50)}
    gru |= {n: mid[f"conv-GRU, readout averaged over time, {n} per class"] for n in (800, 200)}
    assert {r["epochs"] for g in gru.values() for r in g} == {40}
    vs_mmnd = {n: _paired(old[f"{n} per class"], g) for n, g in gru.items()}
    assert all(m + h > 0 for m, h in vs_mmnd.values())  # no interval below 0: kept
    assert "no size shows the mMND network resolved ahead of a conv-GRU" in flat
    (m4, h4), (m5, h5) = vs_mmnd[400], vs_mmnd[50]
    l4, hl4 = _paired(old["conv-GRU (same budget), 400 per class"], gru[400])
    l5, hl5 = _paired(old["conv-GRU (same budget), 50 per class"], gru[50])
    assert abs(m4) < h4 and abs(m5) < h5 and abs(l4) < hl4  # not resolved
    assert l5 - hl5 > 0  # the readout over time helps at 50 per class
    assert f"this GRU is {m4:.1f} ± {h4:.1f} points from the mMND network" in flat
    assert f"and {l4:.1f} ± {hl4:.1f} from the last-state GRU" in flat
    assert f"it is {m5:.1f} ± {h5:.1f} points from the mMND network" in flat
    assert f"{l5:.1f} ± {hl5:.1f} points over the last-state GRU" in flat
    quoted = ", ".join(f"{vs_mmnd[n][0]:.1f} ± {vs_mmnd[n][1]:.1f}" for n in (50, 200, 400))
    assert f"{quoted} and {vs_mmnd[800][0]:.1f} ± {vs_mmnd[800][1]:.1f} points" in training


def _ci(d: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and t half-width at this level."""
    return d.mean(), stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))


def _pathway_effects(runs: dict, seeds: range) -> tuple[dict, list, list]:
    """Per-variant accuracies (points), the three differences to the full network widened
    for three comparisons, and the factorial's skip, dynamic and interaction intervals."""
    assert all([r["seed"] for r in runs[v]] == list(seeds) for v in runs)
    full, *rest = runs
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    widened = [_ci(acc[v] - acc[full], 1 - 0.05 / 3) for v in rest]
    return acc, widened, [_ci(d) for d in _factorial(acc)]


def _factorial(acc: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-seed skip and second-dynamic main effects and their interaction, from the four
    variants in order: full, no skip, one dynamic, neither."""
    full, no_skip, one_dynamic, neither = (acc[v] for v in acc)
    skip = ((full - no_skip) + (one_dynamic - neither)) / 2
    dynamic = ((full - one_dynamic) + (no_skip - neither)) / 2
    return skip, dynamic, (full - no_skip) - (one_dynamic - neither)


def test_pathway_ablation_with_20_seeds_is_quoted_as_computed():
    """The declared analysis of pathways_rhythms_20: three paired differences to the full
    network widened for three comparisons, the 2x2 factorial, seed 0 left out, and
    seeds 0-4 against the 5-seed table."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("pathways_rhythms_20")
    _, five = _runs_by_variant("pathways_rhythms")
    full, *rest = runs
    acc, widened, factorial = _pathway_effects(runs, range(20))
    ci = _ci
    assert all(m + h > 0 for m, h in widened)  # none below 0: neither effect is stated
    (a, ha), (b, hb), (c, hc) = widened
    assert f"removing the skip is {a:.1f} ± {ha:.1f}" in flat
    assert f"removing the second dynamic {b:.1f} ± {hb:.1f}" in flat
    assert f"removing both {c:.1f} ± {hc:.1f} (unwidened" in flat
    both = acc[rest[2]] - acc[full]
    m5, h5 = ci(both[:5])
    m20, h20 = ci(both)
    assert m5 + h5 < 0 < m20 + h20  # resolved on seeds 0-4 only
    assert f"this run gives {m5:.1f} ± {h5:.1f} points for removing both" in flat
    assert f"over seeds 0-19 it is {m20:.1f} ± {h20:.1f}" in flat
    assert f"over seeds 0-19 removing both costs {-m20:.1f} ± {h20:.1f} points" in flat
    quoted = [f"{m:.1f} ± {h:.1f}" for m, h in factorial]
    assert f"the skip's main effect {quoted[0]} points, the second dynamic's {quoted[1]}" in flat
    assert f"their interaction {quoted[2]}" in flat
    for v, old_value in zip(rest, (-0.3, -0.7, -3.1), strict=True):
        m, h = ci((acc[v] - acc[full])[1:], 1 - 0.05 / 3)
        assert f"{old_value:.1f} becomes {m:.1f} ± {h:.1f}" in flat
    # Seeds 0-4: the networks without the skip rerun to the last bit, those with it do not.
    for v in runs:
        same = [
            x["test_accuracy"] == y["test_accuracy"]
            for x, y in zip(five[v], runs[v][:5], strict=True)
        ]
        assert all(same) if "no skip" in v else not any(same)
    moved = {
        v: max(
            abs(x["test_accuracy"] - y["test_accuracy"]) * 100
            for x, y in zip(five[v], runs[v][:5], strict=True)
        )
        for v in (full, rest[1])
    }
    assert f"up to {moved[full]:.1f} points (heterogeneous) and {moved[rest[1]]:.1f}" in flat


def test_pathway_ablation_at_400_per_class_is_quoted_as_computed():
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("pathways_rhythms_400")
    _, data = _runs_by_variant("data_rhythms")
    full, *_ = runs
    acc, widened, factorial = _pathway_effects(runs, range(10))
    assert all(m + h > 0 for m, h in widened)  # none below 0: no effect is stated
    (a, ha), (b, hb), (c, hc) = widened
    assert f"removing the skip is {a:.1f} ± {ha:.1f} points, removing the second" in flat
    assert f"dynamic {b:.1f} ± {hb:.1f}, removing both {c:.1f} ± {hc:.1f}; not even" in flat
    ahead = [int(np.sum(acc[v] < acc[full])) for v in list(runs)[1:]]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 10 seeds" in flat
    quoted = [f"{m:.1f} ± {h:.1f}" for m, h in factorial]
    assert f"the skip's main effect {quoted[0]} points, the second dynamic's {quoted[1]}, " in flat
    assert f"their interaction {quoted[2]}. Last-epoch" in flat
    # The full network's seeds 0-4 are data_rhythms' 400-per-class cells, bit for bit.
    for x, y in zip(data["400 per class"], runs[full][:5], strict=True):
        assert (x["test_accuracy"], x["train_accuracy"]) == (
            y["test_accuracy"],
            y["train_accuracy"],
        )


def test_pathway_replication_on_seeds_10_to_24_is_quoted_as_computed():
    """The declared replication at 400 per class: seeds 10-24 analysed alone (three
    widened paired differences, the factorial), then seeds 0-24 pooled, descriptive."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("pathways_rhythms_400_s10")
    _, first = _runs_by_variant("pathways_rhythms_400")
    full, *rest = runs
    acc, widened, factorial = _pathway_effects(runs, range(10, 25))
    assert all(m + h > 0 for m, h in widened)  # none below 0: no effect is stated
    (a, ha), (b, hb), (c, hc) = widened
    assert f"removing the skip is {a:.1f} ± {ha:.1f} points, removing the second dynamic" in flat
    assert f"dynamic {b:.1f} ± {hb:.1f}, removing both {c:.1f} ± {hc:.1f}. The full" in flat
    ahead = [int(np.sum(acc[v] < acc[full])) for v in rest]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 15 seeds" in flat
    sds = [np.std(acc[v] - acc[full], ddof=1) for v in rest]
    assert f"(SD {min(sds):.1f}-{max(sds):.1f} points against 7.1-9.6)" in flat
    halves = [h for _, h in widened]
    assert f"widened half-widths of {min(halves):.1f}-{max(halves):.1f}" in flat
    quoted = [f"{m:.1f} ± {h:.1f}" for m, h in factorial]
    assert f"the skip's main effect {quoted[0]} points, the second dynamic's {quoted[1]}, " in flat
    assert f"their interaction {quoted[2]}. - **Seeds 0-24" in flat
    # The full network's worst seed, quoted as kept.
    worst = min(runs[full], key=lambda r: r["test_accuracy"])
    assert worst["seed"] == 15
    assert f"ends at {100 * worst['train_accuracy']:.1f}% training accuracy and " in flat
    assert f"{100 * worst['test_accuracy']:.1f}% test" in flat
    # Pooled with seeds 0-9, descriptive.
    pooled = {
        v: np.concatenate([[100 * r["test_accuracy"] for r in first[v]], acc[v]]) for v in runs
    }
    m, h = _ci(pooled[full])
    assert f"the full network {m:.1f} ± {h:.1f}%; removing the skip" in flat
    w = [_ci(pooled[v] - pooled[full], 1 - 0.05 / 3) for v in rest]
    assert f"removing the skip {w[0][0]:.1f} ± {w[0][1]:.1f} points (widened), the second" in flat
    assert f"dynamic {w[1][0]:.1f} ± {w[1][1]:.1f}, both {w[2][0]:.1f} ± {w[2][1]:.1f}; the" in flat
    ahead = [int(np.sum(pooled[v] < pooled[full])) for v in rest]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 25 seeds" in flat


def test_kernel_dispatch_probe_is_quoted_as_computed():
    """The one-step probe and the seed-0 reruns under other kernels, as the README says."""
    flat = " ".join(README.split())
    probe = json.loads(
        (DOCS.parent / "benchmarks/results/kernel_dispatch_2026-12-04.json").read_text()
    )
    aten = probe["settings"]["ATEN_CPU_CAPABILITY=default"]
    onednn = probe["settings"]["ONEDNN_MAX_CPU_ISA=SSE41"]
    nets = [v.name for v in PATHWAY_VARIANTS]
    for setting in (aten, onednn):
        assert not [k for k in setting["differ"] if "spikes" in k]
        assert all(f"{n}|gradient of convs.0.weight" in setting["differ"] for n in nets)
        assert all(
            f"{n}|gradient of adapters.0->2.weight" in setting["differ"]
            for n in nets
            if ", skip" in n
        )
    first = max(
        s["differ"][f"{n}|gradient of convs.0.weight"] for s in (aten, onednn) for n in nets
    )

    def sci(x: float) -> str:  # 1.5e-08 is written 1.5e-8
        return f"{x:.1e}".replace("e-0", "e-")

    assert f"in every network (by at most {sci(first)})" in flat
    second = [
        (s is onednn, n)
        for s in (aten, onednn)
        for n in nets
        if f"{n}|gradient of convs.1.weight" not in s["differ"]
    ]
    assert second == [(True, "homogeneous, no skip")]
    logits = {n: aten["differ"][f"{n}|logits"] for n in nets}
    no_skip = max(v for n, v in logits.items() if "no skip" in n)
    skip = max(v for n, v in logits.items() if ", skip" in n)
    assert f"by at most {sci(no_skip)} without the skip and {sci(skip)} with it" in flat
    assert not [k for k in onednn["differ"] if "logits" in k]
    # Seed 0 under each setting against the default kernels' seed 0 (the 20-seed table).
    _, ref = _runs_by_variant("pathways_rhythms_20")
    moves = {}
    for folder in ("pathways_rhythms_onednn_sse41", "pathways_rhythms_aten_default"):
        _, runs = _runs_by_variant(folder)
        moves[folder] = [
            100 * (runs[n][0]["test_accuracy"] - ref[n][0]["test_accuracy"]) for n in ref
        ]
        assert all(runs[n][0]["seed"] == ref[n][0]["seed"] == 0 for n in ref)
    quoted = [
        ", ".join(f"{m:+.1f}" for m in ms[:3]) + f" and {ms[3]:+.1f}" for ms in moves.values()
    ]
    assert f"by {quoted[0]} points without AVX in oneDNN, and by {quoted[1]} points" in flat
    largest = max(abs(m) for ms in moves.values() for m in ms)
    assert f"moves a 40-epoch run by up to {largest:.1f} points here" in flat


def test_pathway_third_look_on_seeds_0_to_40_is_quoted_as_computed():
    """The declared third look at 400 per class: seeds 0-40 pooled, the three paired
    differences widened for three comparisons and three looks (99.44%), only the
    combined change stated; seeds 25-40 alone and the pooled factorial, descriptive."""
    flat = " ".join(README.split())
    _, fresh = _runs_by_variant("pathways_rhythms_400_s25")
    folders = ("pathways_rhythms_400", "pathways_rhythms_400_s10", "pathways_rhythms_400_s25")
    parts = [_runs_by_variant(f)[1] for f in folders]
    full, *rest = fresh
    acc, widened, _ = _pathway_effects(fresh, range(25, 41))
    quoted = ", ".join(f"{m:.1f} ± {h:.1f}" for m, h in widened)
    assert f"(descriptive; widened for three comparisons):** {quoted};" in flat
    ahead = [int(np.sum(acc[v] < acc[full])) for v in rest]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 16 seeds" in flat
    worst = min(fresh[full], key=lambda r: r["test_accuracy"])
    assert f"Its worst seed, {worst['seed']}, ends at {100 * worst['train_accuracy']:.1f}%" in flat
    assert all([r["seed"] for p in parts for r in p[v]] == list(range(41)) for v in fresh)
    pooled = {
        v: np.concatenate([[100 * r["test_accuracy"] for r in p[v]] for p in parts]) for v in fresh
    }
    m, h = _ci(pooled[full])
    assert f"the full network {m:.1f} ± {h:.1f}% over 41 seeds" in flat
    primary = [_ci(pooled[v] - pooled[full], 1 - 0.05 / 9) for v in rest]
    (a, ha), (b, hb), (c, hc) = primary
    assert f"the skip {a:.1f} ± {ha:.1f} points, the second dynamic {b:.1f} ± {hb:.1f}, " in flat
    assert f"both {c:.1f} ± {hc:.1f} (99.44%)" in flat
    # As declared, an effect is stated only where the interval lies below 0: both only.
    assert [mm + hh < 0 for mm, hh in primary] == [False, False, True]
    assert f"-{abs(c):.2f} ± {hc:.2f}, upper end {c + hc:.2f} points" in flat
    assert f"by {-c:.1f} points (99.44% interval {-(c + hc):.2f} to {-(c - hc):.1f})" in flat
    ahead = [int(np.sum(pooled[v] < pooled[full])) for v in rest]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 41 seeds" in flat
    # The fragility quoted beside it: leave-one-out flips and the smallest shift.
    both = pooled[rest[2]] - pooled[full]
    flips = sum(sum(_ci(np.delete(both, k), 1 - 0.05 / 9)) >= 0 for k in range(41))
    assert f"leaving out any one of {flips} of the 41 seeds" in flat
    f = [f"{mm:.1f} ± {hh:.1f}" for mm, hh in (_ci(x) for x in _factorial(pooled))]
    assert f"the skip's main effect {f[0]} points, the second dynamic's {f[1]}, " in flat
    assert f"their interaction {f[2]} (seeds 0-40" in flat


def test_pathway_confirmatory_dynamic_on_seeds_41_to_60_is_quoted_as_computed():
    """The declared confirmatory test: on fresh seeds 41-60 alone, the second dynamic's
    main effect with its 95% interval (stated only above 0); the rest descriptive."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("pathways_rhythms_400_s41")
    full, *rest = runs
    acc, widened, factorial = _pathway_effects(runs, range(41, 61))
    dynamic = _factorial(acc)[1]
    m, h = factorial[1]
    assert m - h > 0  # as declared, the claim is stated only if the interval is above 0
    assert (
        f"main effect is {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to {m + h:.1f}; SD"
        in flat
    )
    assert f"SD {np.std(dynamic, ddof=1):.1f} points over seeds, positive on " in flat
    assert f"positive on {int(np.sum(dynamic > 0))} of the 20 seeds" in flat
    assert f"fresh seeds ({m:.1f} ± {h:.1f})" in flat
    quoted = [f"{mm:.1f} ± {hh:.1f}" for mm, hh in factorial]
    assert f"the skip's main effect {quoted[0]} points, the interaction {quoted[2]}." in flat
    (a, ha), (b, hb), (c, hc) = widened
    assert f"removing the skip {a:.1f} ± {ha:.1f}, removing the second dynamic {b:.1f} ± " in flat
    assert f"dynamic {b:.1f} ± {hb:.1f}, removing both {c:.1f} ± {hc:.1f}; the full" in flat
    ahead = [int(np.sum(acc[v] < acc[full])) for v in rest]
    assert f"ahead on {ahead[0]}, {ahead[1]} and {ahead[2]} of the 20 seeds" in flat
    worst = min(runs[full], key=lambda r: r["test_accuracy"])
    top = max(r["train_accuracy"] for r in runs[full])
    assert f"full network, {worst['seed']}, ends at {100 * worst['train_accuracy']:.1f}%" in flat
    assert (
        f"{100 * worst['test_accuracy']:.1f}% test (its other seeds: up to {100 * top:.1f}%" in flat
    )
    assert f"confirmed on fresh seeds 41-60 ({m:.1f} ± {h:.1f}" in flat


def test_single_dynamic_on_seeds_61_to_80_is_quoted_as_computed():
    """The declared test of heterogeneity against one dynamic at the fastest and at the
    slowest of the two: widened for two comparisons; the gain is qualified unless both
    intervals lie below 0, and a single dynamic beats the mix only above 0."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("single_dynamic_rhythms_400_s61")
    full, fast, slow = runs
    assert all([r["seed"] for r in runs[v]] == list(range(61, 81)) for v in runs)
    assert len({r["params"] for v in runs for r in runs[v]}) == 1
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    (a, ha), (b, hb) = (_ci(acc[v] - acc[full], 1 - 0.05 / 2) for v in (fast, slow))
    # As declared: not both below 0, so qualified; neither above 0, so no single one wins.
    assert not (a + ha < 0 and b + hb < 0) and a - ha < 0 and b - hb < 0
    assert "so, as declared, the gain is not told apart from a better single time" in flat
    assert f"(tau_m 2) is {a:.1f} ± {ha:.1f} points from the full network ({a - ha:.1f} to" in flat
    assert f"({a - ha:.1f} to {a + ha:.1f}; the full network ahead on " in flat
    assert f"ahead on {int(np.sum(acc[fast] < acc[full]))} of the 20 seeds)" in flat
    assert f"(tau_m 8) -{abs(b):.1f} ± {hb:.1f} ({b - hb:.1f} to {b + hb:.1f}; the full" in flat
    assert f"network ahead on {int(np.sum(acc[slow] < acc[full]))} of 20)" in flat
    m, h = _ci(acc[fast] - acc[slow])
    assert f"the fastest single dynamic is {m:.1f} ± {h:.1f} points above the slowest" in flat
    assert f"(± {_ci(acc[fast])[1]:.1f} against ± {_ci(acc[full])[1]:.1f})" in flat
    worst = {v: min(runs[v], key=lambda r: r["test_accuracy"]) for v in (full, fast)}
    assert worst[full]["seed"] == worst[fast]["seed"] == 69
    quoted = [
        f"{100 * worst[v]['train_accuracy']:.1f}%{' training accuracy,' if v == full else ','}"
        f" {100 * worst[v]['test_accuracy']:.1f}%"
        for v in (full, fast)
    ]
    assert f"({quoted[0]} test) and the fastest single dynamic ({quoted[1]})" in flat
    assert a > 0  # "its mean is the higher"
    assert f"its mean is the higher ({a:.1f} ± {ha:.1f} points, widened, seeds 61-80)" in flat
    assert f"resolved from the mix ({a:.1f} ± {ha:.1f}, widened)" in flat


def test_mix_around_the_better_single_dynamic_on_seeds_81_to_100_is_quoted_as_computed():
    """The declared test of a mix of tau_m 1 and 4 against one dynamic at tau_m 2: one 95%
    interval, the claim stated only above 0; the single dynamics quoted beside it."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("mix_rhythms_400_s81")
    mix, one = runs
    assert all([r["seed"] for r in runs[v]] == list(range(81, 101)) for v in runs)
    assert len({r["params"] for v in runs for r in runs[v]}) == 1
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    d = acc[mix] - acc[one]
    m, h = _ci(d)
    assert m - h > 0  # as declared, stated only if the interval lies above 0
    assert f"is {m:.1f} ± {h:.1f} points above one dynamic at tau_m 2 (95% interval " in flat
    assert f"(95% interval {m - h:.1f} to {m + h:.1f}; SD {np.std(d, ddof=1):.1f} points" in flat
    assert f"the mix ahead on {int(np.sum(d > 0))} of the 20 seeds)" in flat
    assert f"1 and 4 against 2: {m:.1f} ± {h:.1f})" in flat
    assert f"tau_m 2 by {m:.1f} ± {h:.1f} points (seeds 81-100" in flat
    mm, hm = _ci(acc[mix])
    mo, ho = _ci(acc[one])
    assert f"the mix of 1 and 4 reaches {mm:.1f} ± {hm:.1f}%" in flat
    assert f"tau_m 2 gives {mo:.1f} ± {ho:.1f}% here" in flat
    tables = ["pathways_rhythms_400", "pathways_rhythms_400_s10", "pathways_rhythms_400_s25"]
    tables += ["pathways_rhythms_400_s41", "single_dynamic_rhythms_400_s61", "data_rhythms"]
    means = [
        r["mean"]
        for f in tables
        for r in _runs_by_variant(f)[0]["rows"]
        if r["variant"] in ("heterogeneous, skip", "400 per class")
    ]
    assert len(means) == 6 and mm > max(means)
    assert f"({min(means):.1f}-{max(means):.1f}% in six tables)" in flat
    # The single dynamics quoted beside it, from their own folders.
    _, single = _runs_by_variant("single_dynamic_rhythms_400_s61")
    _, conf = _runs_by_variant("pathways_rhythms_400_s41")
    fast, slow = (
        _ci(np.array([100 * r["test_accuracy"] for r in single[v]])) for v in list(single)[1:]
    )
    middle = _ci(np.array([100 * r["test_accuracy"] for r in conf["homogeneous, skip"]]))
    assert f"(tau_m 8: {slow[0]:.1f} ± {slow[1]:.1f}%, seeds 61-80; 4: " in flat
    assert f"4: {middle[0]:.1f} ± {middle[1]:.1f}%, seeds 41-60; 2: " in flat
    assert f"2: {fast[0]:.1f} ± {fast[1]:.1f}% and {mo:.1f} ± {ho:.1f}%," in flat


def test_mix_against_each_of_its_dynamics_on_seeds_81_to_100_is_quoted_as_computed():
    """The declared test of the tau_m 1-and-4 mix against each of its dynamics alone: two
    95% intervals (intersection-union, not widened), the claim stated only if both lie
    below 0; the mix retrained there must equal the earlier run's records exactly."""
    flat = " ".join(README.split())
    _, runs = _runs_by_variant("single_dynamic_tau1_4_s81")
    _, earlier = _runs_by_variant("mix_rhythms_400_s81")
    mix, fast, slow = runs
    assert all([r["seed"] for r in runs[v]] == list(range(81, 101)) for v in runs)
    assert len({r["params"] for v in runs for r in runs[v]}) == 1
    assert runs[mix] == earlier["heterogeneous, skip"]  # "equal ... exactly"
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    (a, ha), (b, hb) = (_ci(acc[v] - acc[mix]) for v in (fast, slow))
    two = np.array([100 * r["test_accuracy"] for r in earlier["homogeneous, skip"]])
    m2, h2 = _ci(two - acc[mix])
    assert a + ha < 0 and b + hb < 0 and m2 + h2 < 0  # as declared: stated
    assert "both intervals lie below 0, so, as declared, the claim is stated." in flat
    assert f"tau_m 1 is {a:.1f} ± {ha:.1f} points from the mix (95% interval " in flat
    assert f"(95% interval {a - ha:.1f} to {a + ha:.1f}; the mix ahead on " in flat
    assert f"ahead on {int(np.sum(acc[fast] < acc[mix]))} of the 20 seeds)" in flat
    assert f"tau_m 4 {b:.1f} ± {hb:.1f} ({b - hb:.1f} to {b + hb:.1f}; the mix ahead" in flat
    assert int(np.sum(acc[slow] < acc[mix])) == 20  # "ahead on all 20"
    assert f"and one at tau_m 2 {m2:.1f} ± {h2:.1f} (above)" in flat
    assert f"(tau_m 1: by {-a:.1f} ± {ha:.1f} points; tau_m 4: by {-b:.1f} ± {hb:.1f})" in flat
    assert f"(tau_m 1: {-a:.1f} ± {ha:.1f}; tau_m 4: {-b:.1f} ± {hb:.1f})" in flat
    (m1, h1), (m4, h4), (mt, ht) = (_ci(x) for x in (acc[fast], acc[slow], two))
    assert max(m1, m4) < mt  # "peak at tau_m 2"
    assert f"tau_m 1 {m1:.1f} ± {h1:.1f}%, tau_m 2 {mt:.1f} ± {ht:.1f}% (the previous" in flat
    assert f"tau_m 4 {m4:.1f} ± {h4:.1f}% (tau_m 2" in flat
    d21, d24 = _ci(two - acc[fast]), _ci(two - acc[slow])
    assert f"minus tau_m 1: {d21[0]:.1f} ± {d21[1]:.1f} points;" in flat
    assert f"tau_m 2 minus tau_m 4: {d24[0]:.1f} ± {d24[1]:.1f})" in flat
    assert d21[0] - d21[1] > 0 and d24[0] - d24[1] > 0
    train = [100 * np.mean([r["train_accuracy"] for r in runs[v]]) for v in runs]
    assert (
        f"mix {train[0]:.1f}%, tau_m 1 alone {train[1]:.1f}%, tau_m 4 alone {train[2]:.1f}%"
    ) in flat


def _second_minus_first(folder: str, seeds: range):
    """A two-variant folder's runs, test accuracies (points), the per-seed difference second
    minus first, and its mean with 95% half-width; every variant ran exactly ``seeds``."""
    _, runs = _runs_by_variant(folder)
    assert len(runs) == 2 and all([r["seed"] for r in runs[v]] == list(seeds) for v in runs)
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    first, second = runs
    d = acc[second] - acc[first]
    return runs, acc, d, _ci(d)


def test_skip_alone_in_the_mix_on_seeds_101_to_120_is_quoted_as_computed():
    """The declared test of the skip in the tau_m 1-and-4 mix: one 95% interval, an effect
    stated only if it excludes 0; the power shortfall and the post-hoc figures quoted."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("skip_tau1_4_s101", range(101, 121))
    skip, no_skip = runs
    assert m - h < 0 < m + h  # as declared: no effect stated
    assert "the interval contains 0, so, as declared, no effect is stated." in flat
    assert f"Removing the skip is {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to" in flat
    assert f"to {m + h:.1f}; the network with the skip ahead on {int(np.sum(d < 0))} of" in flat
    assert f"without it on {int(np.sum(d > 0))}, one tie)" in flat and np.sum(d == 0) == 1
    sd = np.std(d, ddof=1)
    assert f"with an SD of {sd:.1f} points, not the 6 assumed" in flat
    assert f"the interval is ± {h:.1f} points" in flat
    assert f"({m:.1f} ± {h:.1f} points, paired SD {sd:.1f}); an interval" in flat
    assert f"removing it from the mix of 1 and 4 is {m:.1f} ± {h:.1f} points on seeds" in flat
    n = next(n for n in range(2, 500) if stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n) <= 3)
    assert f"± 3 points at that spread would take about {n} seeds" in flat
    worst = int(np.argmin(d))
    w = {v: runs[v][worst] for v in runs}
    assert w[skip]["seed"] == 101
    assert (
        f"ended at {100 * w[no_skip]['train_accuracy']:.1f}% training accuracy and "
        f"{100 * w[no_skip]['test_accuracy']:.1f}% test (with the skip: "
        f"{100 * w[skip]['train_accuracy']:.1f}% and {100 * w[skip]['test_accuracy']:.1f}%), "
        f"{d[worst]:.1f} points"
    ) in flat
    rest = _ci(np.delete(d, worst))
    assert f"gives {rest[0]:.1f} ± {rest[1]:.1f} points, and the median difference" in flat
    assert f"is +{np.median(d):.1f}." in flat
    train = [100 * np.mean([r["train_accuracy"] for r in runs[v]]) for v in runs]
    assert f"{train[0]:.1f}% with the skip, {train[1]:.1f}% without" in flat
    mm, hm = _ci(acc[skip])
    assert f"The mix of tau_m 1 and 4 reaches {mm:.1f} ± {hm:.1f}% on these seeds" in flat


def test_mix_against_the_conv_gru_on_seeds_101_to_120_is_quoted_as_computed():
    """The declared test of the tau_m 1-and-4 mix against the conv-GRU of its size with the
    readout over time: one 95% interval; the mix's cells are the skip test's, as declared."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("mix_vs_gru_s101", range(101, 121))
    _, skip_runs = _runs_by_variant("skip_tau1_4_s101")
    mix, gru = runs
    assert runs[mix] == skip_runs["heterogeneous, skip"]  # the cells copied in
    assert m - h < 0 < m + h  # as declared: not resolved apart
    assert "the interval contains 0, so, as declared, the two are not resolved apart." in flat
    assert f"The GRU is {m:.1f} ± {h:.1f} points from the mix (95% interval {m - h:.1f} to" in flat
    assert f"to {m + h:.1f}; the mix ahead on {int(np.sum(d < 0))} of the 20 seeds, the GRU" in flat
    assert f"the GRU on {int(np.sum(d > 0))})." in flat
    for text in (f"(GRU minus mix {m:.1f} ± {h:.1f} points, seeds", f"minus mix {m:.1f} ± {h:.1f}"):
        assert text in flat
    (lo_g, hi_g), (lo_m, hi_m) = ((acc[v].min(), acc[v].max()) for v in (gru, mix))
    assert f"({lo_g:.1f}-{hi_g:.1f}% test, against {lo_m:.1f}-{hi_m:.1f}% for the mix;" in flat
    assert f"paired SD {np.std(d, ddof=1):.1f} points)" in flat
    train = [100 * np.mean([r["train_accuracy"] for r in runs[v]]) for v in runs]
    params = [runs[v][0]["params"] for v in runs]
    assert f"{train[0]:.1f}% (mix) and {train[1]:.1f}% (GRU), at {params[0]:,} and" in flat
    assert f"and {params[1]:,} parameters" in flat


def test_mix_against_the_conv_gru_on_seeds_121_to_160_is_quoted_as_computed():
    """The declared 40-seed test of the mix against the conv-GRU of its size: level within 5
    points only if the 95% interval contains 0 and lies inside ± 5; the mix's cells are the
    skip test's first 40, as declared."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("mix_vs_gru_s121", range(121, 161))
    _, skip_runs = _runs_by_variant("skip_tau1_4_s121")
    mix, gru = runs
    assert runs[mix] == skip_runs["heterogeneous, skip"][:40]  # the cells copied in
    assert m - h < 0 < m + h and -5 < m - h and m + h < 5  # as declared: level within 5
    assert "lies within ± 5 points, so, as declared, the two are level within 5 points." in flat
    assert f"level within 5 points (GRU minus mix {m:.1f} ± {h:.1f} points, seeds 121-160)" in flat
    assert (
        f"GRU minus mix is {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to {m + h:.1f})"
        in flat
    )
    assert (
        f"the mix is ahead on {int(np.sum(d < 0))} of the 40 seeds, the GRU on {int(np.sum(d > 0))};"
        in flat
    )
    assert np.sum(d == 0) == 0
    assert (
        f"difference is {np.median(d):.1f} points and the paired SD {np.std(d, ddof=1):.1f}" in flat
    )
    (lo_m, hi_m), (lo_g, hi_g) = ((acc[v].min(), acc[v].max()) for v in (mix, gru))
    assert (
        f"spans {lo_m:.1f}-{hi_m:.1f}% for the mix and {lo_g:.1f}-{hi_g:.1f}% for the GRU;" in flat
    )
    train = [100 * np.mean([r["train_accuracy"] for r in runs[v]]) for v in runs]
    params = [runs[v][0]["params"] for v in runs]
    assert f"accuracy {train[0]:.1f}% (mix) and {train[1]:.1f}% (GRU), at {params[0]:,} and" in flat
    assert f"and {params[1]:,} parameters." in flat


def _assert_ahead_median_sd(flat: str, d: np.ndarray) -> None:
    """The descriptive line of a 54-seed skip test: seeds ahead each way, one tie, the
    median difference and the paired SD, as quoted."""
    assert np.sum(d == 0) == 1
    assert (
        f"ahead on {int(np.sum(d < 0))} of the 54 seeds, without it on {int(np.sum(d > 0))}, one tie;"
        in flat
    )
    assert (
        f"the median difference is {np.median(d):.1f} points and the paired SD {np.std(d, ddof=1):.1f}"
        in flat
    )


def test_skip_alone_in_the_mix_on_seeds_121_to_174_is_quoted_as_computed():
    """The declared 54-seed test of the skip in the tau_m 1-and-4 mix: the claim stated only
    because the 95% interval lies below 0; the descriptive figures quoted as computed."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("skip_tau1_4_s121", range(121, 175))
    skip, no_skip = runs
    assert m + h < 0  # as declared: the claim is stated only if the interval lies below 0
    assert "the interval lies below 0, so, as declared, the claim is stated: on" in flat
    assert (
        f"Removing it costs {-m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to {m + h:.1f})"
        in flat
    )
    assert f"{m:.1f} ± {h:.1f} points on fresh seeds 121-174" in flat
    assert f"(121-174) it was resolved: {m:.1f} ± {h:.1f} points, and replicated" in flat
    _assert_ahead_median_sd(flat, d)
    train = {v: np.array([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    low = train[skip].min()
    assert (
        f"lowest of the networks with the skip ({low:.1f}%) on {int(np.sum(train[no_skip] < low))}"
        in flat
    )
    worst = int(np.argmin(d))
    seed = runs[skip][worst]["seed"]
    assert (
        f"down to {train[no_skip][worst]:.1f}% on seed {seed}, where removing the skip costs"
        in flat
    )
    assert (
        f"costs {-d[worst]:.1f} points (test {acc[no_skip][worst]:.1f}% against {acc[skip][worst]:.1f}%)"
        in flat
    )
    assert f"{train[skip].mean():.1f}% with the skip, {train[no_skip].mean():.1f}% without." in flat
    assert max(sum(_ci(np.delete(d, k))) for k in range(len(d))) < 0  # any one seed left out
    rest = _ci(np.delete(d, worst))
    assert f"(without seed {seed}: {rest[0]:.1f} ± {rest[1]:.1f} points)" in flat
    bad = train[no_skip] < low
    assert (
        f"those {int(bad.sum())} seeds make up {-d[bad].sum() / len(d):.1f} of the {-m:.1f} points"
        in flat
    )
    assert (
        f"over the other {int((~bad).sum())} the mean difference is {d[~bad].mean():.1f} (a split"
        in flat
    )


def test_skip_alone_in_the_2_and_8_network_on_seeds_175_to_228_is_quoted_as_computed():
    """The declared 54-seed test of the skip in the tau_m 2-and-8 network: the interval
    contains 0 and reaches past -5 points, so, as declared, nothing is stated."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("skip_tau2_8_s175", range(175, 229))
    skip, no_skip = runs
    assert m - h < 0 < m + h and m - h < -5  # as declared: neither an effect nor a bound
    assert "reaches past -5 points, so, as declared, nothing is stated." in flat
    assert (
        f"Removing the skip from the 2-and-8 network is {m:.1f} ± {h:.1f} points "
        f"(95% interval {m - h:.1f} to {m + h:.1f})" in flat
    )
    assert f"(175-228), removing the skip is {m:.1f} ± {h:.1f} points: not resolved" in flat
    assert f"not resolved ({m:.1f} ± {h:.1f} points), nor bounded within 5" in flat
    _assert_ahead_median_sd(flat, d)
    assert (
        f"spans {acc[skip].min():.1f}-{acc[skip].max():.1f}% with the skip and "
        f"{acc[no_skip].min():.1f}-{acc[no_skip].max():.1f}% without" in flat
    )
    train = {v: np.array([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    assert (
        f"{train[skip].mean():.1f}% with the skip, {train[no_skip].mean():.1f}% without, "
        "at 5,158 and 5,094 parameters" in flat
    )
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"not resolved ({m:.1f} ± {h:.1f} points, 54 other seeds;" in training


def test_skip_replication_in_the_mix_on_seeds_229_to_282_is_quoted_as_computed():
    """The declared replication of the skip in the tau_m 1-and-4 mix: replicated only because
    the 95% interval lies below 0; the split declared in advance quoted as computed."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("skip_tau1_4_s229", range(229, 283))
    skip, no_skip = runs
    assert m + h < 0  # as declared: replicated only if the interval lies below 0
    assert "the interval lies below 0, so, as declared, the skip's effect in the mix of" in flat
    assert (
        f"Removing the skip costs {-m:.1f} ± {h:.1f} points on fresh seeds 229-282 "
        f"(95% interval {m - h:.1f} to {m + h:.1f})" in flat
    )
    assert f"replicated on 54 more fresh seeds (229-282): {m:.1f} ± {h:.1f} points." in flat
    assert f"replicated on seeds 229-282: {m:.1f} ± {h:.1f}." in flat
    assert np.sum(d == 0) == 0
    assert (
        f"ahead on {int(np.sum(d < 0))} of the 54 seeds, without it on {int(np.sum(d > 0))}, no tie;"
        in flat
    )
    assert (
        f"the median difference is {np.median(d):.1f} points and the paired SD {np.std(d, ddof=1):.1f}"
        in flat
    )
    train = {v: np.array([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    assert f"{train[skip].mean():.1f}% with the skip, {train[no_skip].mean():.1f}% without." in flat
    low = train[skip].min()
    bad = train[no_skip] < low
    assert f"it ({low:.1f}%) on {int(bad.sum())} seeds, which make up" in flat
    assert f"make up {-d[bad].sum() / len(d):.1f} of the {-m:.1f} points" in flat
    assert (
        f"over the other {int((~bad).sum())} the mean difference is {d[~bad].mean():.1f}." in flat
    )
    worst = int(np.argmin(d))
    assert (
        f"The worst seed is {runs[skip][worst]['seed']}: {train[no_skip][worst]:.1f}% training "
        f"and {acc[no_skip][worst]:.1f}% test without the skip, {acc[skip][worst]:.1f}% test"
        in flat
    )
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"replicated on 54 fresh seeds: {-m:.1f} ± {h:.1f})" in training


def test_skip_in_the_2_and_8_network_pooled_over_108_seeds_is_quoted_as_computed():
    """The declared second look at the skip in the tau_m 2-and-8 network: seeds 283-336
    pooled with 175-228, one 97.5% interval (the first look spent 5%); it contains 0 and
    reaches past -5 points, so, as declared, nothing is stated."""
    flat = " ".join(README.split())
    runs_a, acc_a, d_a, first = _second_minus_first("skip_tau2_8_s175", range(175, 229))
    runs_b, acc_b, d_b, (mb, hb) = _second_minus_first("skip_tau2_8_s283", range(283, 337))
    d = np.concatenate([d_a, d_b])
    m, h = _ci(d, 0.975)
    assert m - h < 0 < m + h and m - h < -5  # as declared: neither an effect nor a bound
    assert "reaches past -5 points, so, as declared, nothing is stated." in flat
    assert (
        f"removing the skip from the 2-and-8 network is {m:.1f} ± {h:.1f} points "
        f"(97.5% interval {m - h:.1f} to {m + h:.1f})" in flat
    )
    m95, h95 = _ci(d)
    assert m95 + h95 < 0 and f"The 95% interval of the same seeds, {m95:.1f} ± {h95:.1f}" in flat
    # the pooled folder is the union, written by `reproduce pool` at the declared level
    pooled = json.loads((RESULTS / "skip_tau2_8_pooled" / "results.json").read_text())
    assert pooled["level"] == 0.975
    assert [p["seeds"] for p in pooled["pooled_from"]] == [
        list(range(175, 229)),
        list(range(283, 337)),
    ]
    row = pooled["rows"][1]
    assert row["diff_mean"] == pytest.approx(m) and row["diff_ci"] == pytest.approx(h)
    assert row["diff_n"] == 108
    assert f"108 at 97.5%, gives {m:.1f} ± {h:.1f} points, again neither" in flat
    assert f"pooled over the 108 at 97.5%: {m:.1f} ± {h:.1f} points, again neither" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"pooled over the 108 at 97.5% for the second look: {m:.1f} ± {h:.1f})" in training
    # descriptive: the new batch alone, the two batches apart, the pooled seeds
    welch = stats.ttest_ind(d_b, d_a, equal_var=False)
    gap = d_b.mean() - d_a.mean()
    se = np.sqrt(d_a.var(ddof=1) / len(d_a) + d_b.var(ddof=1) / len(d_b))
    assert (
        f"seeds 283-336 alone give {mb:.1f} ± {hb:.1f} points (95%), "
        f"{gap:.1f} ± {stats.t.ppf(0.975, welch.df) * se:.1f} points from seeds 175-228's "
        f"{first[0]:.1f} (Welch)" in flat
    )
    assert np.sum(d == 0) == 1
    assert (
        f"ahead on {int(np.sum(d < 0))}, without it on {int(np.sum(d > 0))}, one tie; the "
        f"median difference is {np.median(d):.1f} points and the paired SD "
        f"{np.std(d, ddof=1):.1f}" in flat
    )
    skip, no_skip = runs_a
    acc = {v: np.concatenate([acc_a[v], acc_b[v]]) for v in runs_a}
    assert (
        f"spans {acc[skip].min():.1f}-{acc[skip].max():.1f}% with the skip and "
        f"{acc[no_skip].min():.1f}-{acc[no_skip].max():.1f}% without" in flat
    )
    train = {
        v: np.array([100 * r["train_accuracy"] for r in runs_a[v] + runs_b[v]]) for v in runs_a
    }
    assert (
        f"training accuracy {train[skip].mean():.1f}% with the skip, "
        f"{train[no_skip].mean():.1f}% without, at 5,158 and 5,094 parameters" in flat
    )


@pytest.mark.parametrize(
    "folder, size, stated",
    [
        (
            "configs_tau_400_s337",
            400,
            "8.5 ± 2.7 points at 400 per class (97.5% interval 5.8 to 11.3)",
        ),
        ("configs_tau_100_s337", 100, "6.7 ± 2.5 points at 100 per class (4.2 to 9.2)"),
    ],
)
def test_the_two_mixes_side_by_side_are_quoted_as_computed(folder, size, stated):
    """The declared direct comparison of the tau_m 1-and-4 and 2-and-8 mixes, one 97.5%
    interval per training size (two tests); both lie above 0, so the claim is stated."""
    flat = " ".join(README.split())
    data, runs = _runs_by_variant(folder)
    assert data["variant_set"] == "configs"
    first, second = data["variants"]
    # the two files differ in their dynamics alone: the comparison is the mix
    assert first["overrides"] == {} and list(second["overrides"]) == ["network"]
    assert list(second["overrides"]["network"]) == ["dynamics"]
    assert [d["tau_m"] for d in data["config"]["network"]["dynamics"]] == [2.0, 8.0]
    assert [d["tau_m"] for d in second["overrides"]["network"]["dynamics"]] == [1.0, 4.0]
    assert data["config"]["dataset"]["train_per_class"] == (400 if size == 400 else None)
    _, acc, d, (m95, h95) = _second_minus_first(folder, range(337, 391))
    m, h = _ci(d, 0.975)
    assert m - h > 0  # as declared: the mix of 1 and 4 is stated ahead
    assert f"{m:.1f} ± {h:.1f} points at {size} per class" in stated and stated in flat
    lo_hi = f"{m - h:.1f} to {m + h:.1f}"
    assert lo_hi in stated
    assert (
        "both 97.5% intervals lie above 0, so, as declared, the claim is stated at both sizes"
        in flat
    )
    fast, slow = (acc[second["name"]], acc[first["name"]])
    ahead = f"ahead on {int(np.sum(d > 0))}"
    assert ahead in flat and np.sum(d == 0) == 0
    assert f"test accuracy {fast.mean():.1f}% against {slow.mean():.1f}%" in flat
    assert (
        f"ranges {fast.min():.1f}-{fast.max():.1f}% and {slow.min():.1f}-{slow.max():.1f}%" in flat
    )
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    assert (
        f"mean training accuracy {train[second['name']]:.1f}% against "
        f"{train[first['name']]:.1f}%" in flat
    )
    assert (
        f"median {np.median(d):.1f}" in flat or f"median difference is {np.median(d):.1f}" in flat
    )
    assert f"paired SD {np.std(d, ddof=1):.1f}" in flat
    assert {json.dumps(r["host"], sort_keys=True) for r in data["runs"]} and all(
        r["host"]["threads"] == 1 for r in data["runs"]
    )
    # the summary, Not done, training.md and the shipped config's comment quote it too
    assert f"by {m:.1f} ± {h:.1f}" in flat or f"and {m:.1f} ± {h:.1f} at 100 per class" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"{m:.1f} ± {h:.1f}" in training
    if size == 100:
        shipped = (RESULTS.parents[1] / "configs" / "rhythms.yaml").read_text()
        assert f"tests {m:.1f} points higher at this size, 54 seeds paired" in shipped


def test_the_faster_mix_on_gestures_is_quoted_as_computed():
    """The descriptive transfer check of the tau_m 1-and-4 file beside the config on
    gestures, and the config's runs against the earlier transfer folder's."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("transfer_tau_gestures", range(5))
    assert (
        m - h < 0 < m + h and f"the {m:.1f} ± {h:.1f} points between them is not resolved" in flat
    )
    every = np.concatenate(list(acc.values()))
    assert f"(every run {every.min():.1f}-{every.max():.1f}%, all 100% on the training set)" in flat
    assert all(r["train_accuracy"] == 1.0 for v in runs for r in runs[v])
    config = ", ".join(f"{a:.1f}" for a in acc["rhythms"])
    earlier = json.loads((RESULTS / "transfer_gestures" / "results.json").read_text())
    before = ", ".join(
        f"{100 * r['test_accuracy']:.1f}" for r in sorted(earlier, key=lambda r: r["seed"])
    )
    assert config != before
    assert f"({config}%) are not those of `transfer_gestures` above ({before}%)" in flat


def test_the_faster_mix_against_the_gru_at_100_per_class_is_quoted_as_computed():
    """The declared test of the tau_m 1-and-4 file against the conv-GRU of its size at
    100 per class: one 95% interval, below 0, so the mix is stated ahead."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("mix_vs_gru_100_s391", range(391, 431))
    data, _ = _runs_by_variant("mix_vs_gru_100_s391")
    assert [x["tau_m"] for x in data["config"]["network"]["dynamics"]] == [1.0, 4.0]
    assert data["config"]["dataset"]["train_per_class"] is None  # the default, 100
    assert m + h < 0  # as declared: the mix is stated ahead
    assert "the interval lies below 0, so, as declared, the claim is stated.** The GRU" in flat
    assert (
        f"minus the mix is {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to {m + h:.1f})"
        in flat
    )
    mix, gru = runs
    assert (
        f"the mix is ahead on {int(np.sum(d < 0))} of the 40 seeds" in flat and np.sum(d == 0) == 0
    )
    assert (
        f"median difference is {np.median(d):.1f} points and the paired SD {np.std(d, ddof=1):.1f}"
        in flat
    )
    assert f"test accuracy {acc[mix].mean():.1f}% against {acc[gru].mean():.1f}%" in flat
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    assert (
        f"mean training accuracy {train[mix]:.1f}% for the mix and {train[gru]:.1f}% for the GRU"
        in flat
    )
    summary = f"by {-m:.1f} ± {h:.1f} points"
    assert f"the conv-GRU of its size with the readout over time, {summary} (40 fresh seeds" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"averaged over time {summary} (40 seeds)" in training


def test_the_mix_against_the_gru_at_four_training_settings_is_quoted_as_computed():
    """The declared test of the GRU's training settings at 100 per class: four GRU rows
    against the mix, each at 98.75% (Bonferroni over four), all below 0, so stated."""
    flat = " ".join(README.split())
    data, runs = _runs_by_variant("gru_training_100_s431")
    assert all([r["seed"] for r in runs[v]] == list(range(431, 471)) for v in runs)
    assert [x["tau_m"] for x in data["config"]["network"]["dynamics"]] == [1.0, 4.0]
    assert data["config"]["dataset"]["train_per_class"] is None  # the default, 100
    mix, *grus = runs
    assert mix == "heterogeneous, skip" and len(grus) == 4
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    widened = [_ci(acc[g] - acc[mix], 1 - 0.05 / 4) for g in grus]
    assert all(m + h < 0 for m, h in widened)  # as declared: the claim is stated
    assert "all four 98.75% intervals lie below 0, so, as declared, the claim is stated." in flat
    (m0, h0), (m1, h1), (m2, h2), (m3, h3) = widened
    assert (
        f"{m0:.1f} ± {h0:.1f} points at the mix's settings (98.75% interval {m0 - h0:.1f} to "
        f"{m0 + h0:.1f}), {m1:.1f} ± {h1:.1f} with twice the epochs ({m1 - h1:.1f} to "
        f"{m1 + h1:.1f}), {m2:.1f} ± {h2:.1f} at 3x the learning rate ({m2 - h2:.1f} to "
        f"{m2 + h2:.1f}) and {m3:.1f} ± {h3:.1f} at 0.3x ({m3 - h3:.1f} to {m3 + h3:.1f})"
    ) in flat
    d = [acc[g] - acc[mix] for g in grus]
    assert all(np.sum(x == 0) == 0 for x in d)
    ahead = ", ".join(str(int(np.sum(x < 0))) for x in d[:3])
    assert f"ahead of the four GRUs on {ahead} and {int(np.sum(d[3] < 0))} of the 40" in flat
    medians = ", ".join(f"{np.median(x):.1f}" for x in d[:3])
    assert f"median differences {medians} and {np.median(d[3]):.1f} points" in flat
    sds = ", ".join(f"{np.std(x, ddof=1):.1f}" for x in d[:3])
    assert f"paired SDs {sds} and {np.std(d[3], ddof=1):.1f}" in flat
    g0, g1, g2, g3 = grus
    assert (
        f"mix {train[mix]:.1f}%; GRU {train[g0]:.1f}% at the mix's settings, {train[g1]:.1f}% "
        f"with twice the epochs, {train[g2]:.1f}% at 3x and {train[g3]:.1f}% at 0.3x"
    ) in flat
    stuck = [r["train_accuracy"] <= 1 / 6 + 1e-6 for r in runs[g2]]
    rest = np.array([a for a, s in zip(acc[g2], stuck, strict=True) if not s])
    gap = np.mean([a - b for a, b, s in zip(acc[g2], acc[mix], stuck, strict=True) if not s])
    assert f"rate {sum(stuck)} of the 40 GRU runs never leave chance" in flat
    assert f"over the other {len(rest)}, chosen after seeing the data, it tests at" in flat
    assert f"{rest.mean():.1f}%, {-gap:.1f} points below the mix on the same seeds" in flat
    m95, h95 = _ci(d[0])
    assert f"on fresh seeds: {m95:.1f} ± {h95:.1f} points (95%)" in flat
    summary = f"by {-m0:.1f} ± {h0:.1f}, {-m1:.1f} ± {h1:.1f}, {-m2:.1f} ± {h2:.1f} and"
    assert f"{summary} {-m3:.1f} ± {h3:.1f} points, 98.75% intervals, four tests" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"(by {-m1:.1f} ± {h1:.1f}, {-m2:.1f} ± {h2:.1f} and {-m3:.1f} ± {h3:.1f}" in training


def test_the_faster_mix_trained_longer_and_wider_is_quoted_as_computed():
    """The declared capacity test of the 100-per-class file of tau_m 1 and 4: two rows
    against the file, each at 97.5% (Bonferroni over two), both above 0, so stated."""
    flat = " ".join(README.split())
    data, runs = _runs_by_variant("capacity_tau1_4_s471")
    assert all([r["seed"] for r in runs[v]] == list(range(471, 511)) for v in runs)
    assert [x["tau_m"] for x in data["config"]["network"]["dynamics"]] == [1.0, 4.0]
    assert data["config"]["train"]["epochs"] == 40
    base, longer, wider = runs
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    d = {v: acc[v] - acc[base] for v in (longer, wider)}
    (m1, h1), (m2, h2) = (_ci(d[v], 0.975) for v in (longer, wider))
    assert m1 - h1 > 0 and m2 - h2 > 0  # as declared: both stated
    assert "both 97.5% intervals lie above 0, so, as declared, both are stated." in flat
    assert (
        f"the mix tests {m1:.1f} ± {h1:.1f} points higher (97.5% interval {m1 - h1:.1f} to "
        f"{m1 + h1:.1f}); with its channels doubled, {m2:.1f} ± {h2:.1f} points higher "
        f"({m2 - h2:.1f} to {m2 + h2:.1f})"
    ) in flat
    for v, what in ((longer, "80 epochs is ahead on"), (wider, "channels doubled ahead on")):
        x = d[v]
        counts = f"{int(np.sum(x > 0))} of the 40 seeds" if v == longer else f"{np.sum(x > 0)}"
        assert f"{what} {counts} ({int(np.sum(x < 0))} behind, {int(np.sum(x == 0))} tie)" in flat
        assert f"median {'difference ' if v == longer else ''}{np.median(x):.1f}" in flat
        assert f"paired SD {np.std(x, ddof=1):.1f}" in flat
    assert (
        f"training accuracy {train[base]:.1f}% for the file, {train[longer]:.1f}% with 80 "
        f"epochs and {train[wider]:.1f}% with the channels doubled"
    ) in flat
    params = {r["params"] for r in runs[wider]}
    assert params == {19526} and {r["params"] for r in runs[base]} == {5158}
    quoted = f"80 epochs test {m1:.1f} ± {h1:.1f} points higher"
    comment = (RESULTS / "configs_tau_100_s337" / "rhythms_tau1_4.yaml").read_text()
    assert quoted in " ".join(c.lstrip("# ") for c in comment.splitlines())
    assert f"{m2:.1f} ± {h2:.1f}" in comment
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"{quoted} than its 40" in training and f"{m2:.1f} ± {h2:.1f} higher" in training


def test_the_mix_against_the_gru_at_the_larger_budget_is_quoted_as_computed():
    """The declared test at channels 32 and 64: one 95% interval, below 0, so stated; the
    mix there is the capacity set's "channels doubled" network."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("mix_vs_gru_wide_s511", range(511, 551))
    data, _ = _runs_by_variant("mix_vs_gru_wide_s511")
    wide, _ = _runs_by_variant("capacity_tau1_4_s471")
    assert data["config"]["network"] == {
        **wide["config"]["network"],
        "layers": [{"channels": c, "kernel": 3, "stride": 2} for c in (32, 64)],
    }
    assert m + h < 0  # as declared: the mix is stated ahead
    mix, gru = runs
    params = [{r["params"] for r in runs[v]} for v in runs]
    assert params == [{19526}, {19274}]
    assert (
        f"minus the mix is {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to {m + h:.1f})"
        in flat
    )
    assert f"the mix is ahead on {int(np.sum(d < 0))} of the 40 seeds" in flat
    assert np.sum(d == 0) == 0
    assert (
        f"median difference is {np.median(d):.1f} points and the paired SD "
        f"{np.std(d, ddof=1):.1f}; test accuracy {acc[mix].mean():.1f}% against "
        f"{acc[gru].mean():.1f}%"
    ) in flat
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    assert f"training accuracy {train[mix]:.1f}% for the mix and {train[gru]:.1f}% for" in flat
    _, small = _runs_by_variant("gru_training_100_s431")
    small_mix, small_gru = (
        np.mean([100 * r["test_accuracy"] for r in small[v]]) for v in list(small)[:2]
    )
    gain_gru = acc[gru].mean() - small_gru
    gain_mix = acc[mix].mean() - small_mix
    assert f"tests {gain_gru:.1f} points higher than the GRU of the" in flat
    assert f"the wider mix {gain_mix:.1f} points higher than" in flat
    assert f"too: {m:.1f} ± {h:.1f} points (seeds 511-550)" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"by {-m:.1f} ± {h:.1f} points (40 seeds)." in training


def test_the_wide_mix_against_each_of_its_dynamics_is_quoted_as_computed():
    """The declared single-dynamic test at 19,526 parameters: two rows against the mix at
    97.5% (Bonferroni over two), both below 0, so stated; the mix cells are the GRU test's."""
    flat = " ".join(README.split())
    data, runs = _runs_by_variant("single_dynamic_wide_s511")
    assert all([r["seed"] for r in runs[v]] == list(range(511, 541)) for v in runs)
    mix, fast, slow = runs
    _, gru_test = _runs_by_variant("mix_vs_gru_wide_s511")
    assert runs[mix] == gru_test[mix][:30]  # copied in, as declared
    assert all({r["params"] for r in runs[v]} == {19526} for v in runs)
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    d = {v: acc[v] - acc[mix] for v in (fast, slow)}
    (m1, h1), (m2, h2) = (_ci(d[v], 0.975) for v in (fast, slow))
    assert m1 + h1 < 0 and m2 + h2 < 0  # as declared: stated
    assert (
        f"One dynamic at tau_m 1 is {m1:.1f} ± {h1:.1f} points from the mix (97.5% interval "
        f"{m1 - h1:.1f} to {m1 + h1:.1f}), one at tau_m 4 {m2:.1f} ± {h2:.1f} ({m2 - h2:.1f} "
        f"to {m2 + h2:.1f})"
    ) in flat
    assert all(np.all(d[v] < 0) for v in d)  # "ahead of both on all 30 seeds"
    assert "the mix is ahead of both on all 30 seeds" in flat
    assert (
        f"median differences {np.median(d[fast]):.1f} and {np.median(d[slow]):.1f} points, "
        f"paired SDs {np.std(d[fast], ddof=1):.1f} and {np.std(d[slow], ddof=1):.1f}"
    ) in flat
    assert (
        f"mix {train[mix]:.1f}%, tau_m 1 alone {train[fast]:.1f}%, tau_m 4 alone {train[slow]:.1f}%"
    ) in flat
    assert f"(tau_m 1: {m1:.1f} ± {h1:.1f}; tau_m 4: {m2:.1f} ± {h2:.1f}; seeds 511-540" in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"(tau_m 1 by {-m1:.1f} ± {h1:.1f} points, tau_m 4 by {-m2:.1f} ±" in training


def test_the_mix_and_the_gru_both_trained_longer_are_quoted_as_computed():
    """The declared 2x2 test at 100 per class: the GRU at 80 epochs minus the mix at 80,
    and the interaction of network and epochs, each at 97.5%; both resolved, so stated."""
    flat = " ".join(README.split())
    data, runs = _runs_by_variant("trained_longer_s551")
    assert all([r["seed"] for r in runs[v]] == list(range(551, 591)) for v in runs)
    assert [x["tau_m"] for x in data["config"]["network"]["dynamics"]] == [1.0, 4.0]
    assert (
        data["config"]["train"]["epochs"] == 40
        and data["config"]["dataset"]["train_per_class"] is None
    )
    mix80, gru80, mix40, gru40 = runs
    assert [r["epochs"] for r in runs[mix80]] == [80] * 40
    assert [r["epochs"] for r in runs[mix40]] == [40] * 40
    acc = {v: np.array([100 * r["test_accuracy"] for r in runs[v]]) for v in runs}
    train = {v: np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in runs}
    d = acc[gru80] - acc[mix80]
    inter = (acc[mix80] - acc[mix40]) - (acc[gru80] - acc[gru40])
    (m1, h1), (m2, h2) = _ci(d, 0.975), _ci(inter, 0.975)
    assert m1 + h1 < 0 and m2 - h2 > 0  # as declared: both claims are stated
    assert (
        f"80 epochs: {m1:.1f} ± {h1:.1f} points (97.5% interval {m1 - h1:.1f} to {m1 + h1:.1f})"
        in flat
    )
    assert (
        f"40): {m2:.1f} ± {h2:.1f} points (97.5% interval {m2 - h2:.1f} to {m2 + h2:.1f})" in flat
    )
    (gm, gh), (rm, rh) = _ci(acc[mix80] - acc[mix40]), _ci(acc[gru80] - acc[gru40])
    assert (
        f"the mix gains {gm:.1f} ± {gh:.1f} points from 80 epochs, the GRU {rm:.1f} ± {rh:.1f}"
        in flat
    )
    m40, h40 = _ci(acc[gru40] - acc[mix40])
    assert f"at 40 epochs the GRU is {m40:.1f} ± {h40:.1f} points from the mix" in flat
    assert f"mix is ahead of the GRU on {int(np.sum(d < 0))} of the 40 seeds" in flat
    assert f"median difference {np.median(d):.1f} points, paired SD {np.std(d, ddof=1):.1f}" in flat
    assert f"interaction is above 0 on {int(np.sum(inter > 0))} of the 40" in flat
    assert (
        f"mix {train[mix80]:.1f}% at 80 epochs and {train[mix40]:.1f}% at 40; GRU "
        f"{train[gru80]:.1f}% at 80 and {train[gru40]:.1f}% at 40"
    ) in flat
    summary = f"by {-m1:.1f} ± {h1:.1f} points, and the longer training raises the mix's"
    assert summary in flat
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"beats that GRU by {-m1:.1f} ± {h1:.1f} points" in training
    assert f"more than the GRU's, by {m2:.1f} ± {h2:.1f} points" in training


def test_the_mix_at_160_epochs_against_80_is_quoted_as_computed():
    """The declared test beyond 80 epochs: one 95% interval containing 0, so not resolved,
    and (reaching beyond -3) not bounded within 3 points; 80-epoch cells are trained-longer's."""
    flat = " ".join(README.split())
    runs, acc, d, (m, h) = _second_minus_first("longer_still_s551", range(551, 575))
    twice, four = runs
    assert [r["epochs"] for r in runs[twice]] == [80] * 24
    assert [r["epochs"] for r in runs[four]] == [160] * 24
    _, earlier = _runs_by_variant("trained_longer_s551")
    assert [r["test_accuracy"] for r in earlier[twice][:24]] == [
        r["test_accuracy"] for r in runs[twice]
    ]  # the copied cells, as declared
    assert m - h < 0 < m + h and m - h < -3  # not resolved, not bounded within 3
    assert f"160 epochs minus 80: {m:.1f} ± {h:.1f} points (95% interval {m - h:.1f} to" in flat
    assert f"{m + h:.1f}). The interval reaches beyond -3" in flat
    ahead, behind, tie = int(np.sum(d > 0)), int(np.sum(d < 0)), int(np.sum(d == 0))
    assert (
        f"ahead on {ahead} of the 24 seeds, 80 on {behind}, {'one' if tie == 1 else tie} tie"
        in flat
    )
    assert f"median difference {np.median(d):.1f} points, paired SD {np.std(d, ddof=1):.1f}" in flat
    train = [np.mean([100 * r["train_accuracy"] for r in runs[v]]) for v in (four, twice)]
    assert f"{train[0]:.1f}% at 160 epochs against {train[1]:.1f}% at 80" in flat
    assert f"not resolved ({m:.1f} ± {h:.1f} points, seeds 551-574)" in flat  # summaries
    training = " ".join((RESULTS.parent / "training.md").read_text().split())
    assert f"160 epochs against 80 is not resolved ({m:.1f} ± {h:.1f} points, 24 seeds" in training
