"""A real two-node Ray cluster on this machine: a search runs on both nodes, one node is
killed mid-search, and the journal shows that no trial was lost or run twice.

Steps (every wait bounded by a timeout; everything started is stopped at the end):

1. ``ray start --head`` (node A, 1 CPU) and ``ray start --address`` (node B, 1 CPU),
   both on 127.0.0.1 with their own free ports and their own temporary folders;
2. ``skipsnn search --address 127.0.0.1:PORT --workers 2`` (random strategy, short
   BPTT trials on the built-in gestures set), so two trials run at once, one per node;
3. once trials have finished on both nodes and node B is running one, node B's
   processes (its raylet and everything under it) are killed with SIGKILL;
4. the search must finish; the journal is checked: every trial id is proposed once and
   has exactly one result (finished or failed), the budget is met, and the node of each
   finished trial (the ``ray_node`` its info records) is counted.

Cleanup never uses ``ray stop`` (which stops every Ray process of the machine, other
users' included): the processes whose command line names this run's temporary folders
are killed, and those folders removed.

    python benchmarks/ray_cluster.py [--budget 8] [--trial-epochs 1] [--timeout 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent
RAY, SKIPSNN = str(BIN / "ray"), str(BIN / "skipsnn")


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def pids_matching(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (not this one)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            out.append(int(d))
    return out


def descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc_title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def kill(pids) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(cmd, timeout, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r


def read_journal(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=8, help="trials (random strategy)")
    ap.add_argument("--trial-epochs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1500, help="seconds for the search")
    ap.add_argument("--keep", action="store_true", help="keep the search folder")
    args = ap.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="rc", dir="/tmp"))  # short: Ray's socket paths
    tmp_a, tmp_b, out, cache = base / "a", base / "b", base / "search", base / "cache"
    for d in (tmp_a, tmp_b):
        d.mkdir()
    # Ray 2.5x+ enables token authentication when it finds a token; this cluster gets its
    # own (every process below, the search's driver included, is given it).
    env = {**os.environ, "SKIPSNN_CACHE": str(cache), "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}  # fmt: skip
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    p = free_ports(16)
    gcs = p[0]
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    head = [RAY, "start", "--head", "--port", str(gcs), "--temp-dir", str(tmp_a),
            "--include-dashboard", "false", "--node-manager-port", str(p[1]),
            "--object-manager-port", str(p[2]),
            "--metrics-export-port", str(p[4]), "--dashboard-agent-listen-port", str(p[5]),
            "--dashboard-agent-grpc-port", str(p[6]), "--runtime-env-agent-port", str(p[7]),
            "--min-worker-port", "0", "--max-worker-port", "0", *common]  # fmt: skip
    node_b = [RAY, "start", "--address", f"127.0.0.1:{gcs}", "--temp-dir", str(tmp_b),
              "--node-manager-port", str(p[8]), "--object-manager-port", str(p[9]),
              "--metrics-export-port", str(p[10]), "--dashboard-agent-listen-port", str(p[11]),
              "--dashboard-agent-grpc-port", str(p[12]), "--runtime-env-agent-port", str(p[13]),
              "--min-worker-port", "0", "--max-worker-port", "0", *common]  # fmt: skip
    report: dict = {"uptime_before": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
    search = None
    try:
        run(head, 180, env)
        run(node_b, 180, env)
        # The node B raylet: the one listening on node B's node-manager port.
        raylets = [q for q in pids_matching(f"--node_manager_port={p[8]}") if "raylet" in proc_title(q)]
        if len(raylets) != 1:
            raise RuntimeError(f"expected one raylet of node B, found {raylets}")
        raylet_b = raylets[0]
        node_ids = {}
        probe = (
            f"import ray, json; ray.init(address='127.0.0.1:{gcs}', log_to_driver=False, "
            "logging_level='ERROR'); print(json.dumps([[n['NodeID'], n['NodeManagerPort']] "
            "for n in ray.nodes() if n['Alive']]))"
        )
        for nid, port in json.loads(run([sys.executable, "-c", probe], 120, env).stdout.strip().splitlines()[-1]):
            node_ids[nid] = "A (head)" if port == p[1] else "B" if port == p[8] else f"? {port}"
        report["nodes"] = node_ids
        half = args.budget // 2
        cmd = [SKIPSNN, "search", "--dataset", "gestures", "--method", "bptt", "--strategy",
               "random", "--budget-v", str(half), "--budget-w", str(args.budget - half),
               "--workers", "2", "--address", f"127.0.0.1:{gcs}", "--out", str(out),
               "--trial-epochs", str(args.trial_epochs), "--no-final", "--no-progress", "--json",
               "--seed", "0"]  # fmt: skip
        report["search_command"] = " ".join(cmd)
        t0 = time.perf_counter()
        search = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed_at = None
        while search.poll() is None:
            if time.perf_counter() - t0 > args.timeout:
                raise TimeoutError(f"the search did not finish in {args.timeout} s")
            if killed_at is None:
                done = [r for r in read_journal(out / "journal.jsonl") if r.get("event") == "finished"]
                nodes_done = {node_ids.get(r.get("info", {}).get("ray_node")) for r in done}
                busy_b = [q for q in descendants(raylet_b) if proc_title(q).startswith("ray::_remote")]
                if {"A (head)", "B"} <= nodes_done and busy_b:
                    journal = read_journal(out / "journal.jsonl")
                    ended = {r["trial"] for r in journal if r.get("event") in ("finished", "failed")}
                    in_flight = sorted(
                        r["trial"] for r in journal
                        if r.get("event") == "proposed" and r["trial"] not in ended
                    )  # fmt: skip
                    victims = descendants(raylet_b)
                    kill(victims)
                    killed_at = time.perf_counter() - t0
                    report["killed"] = {
                        "node": "B", "after_seconds": round(killed_at, 1),
                        "trials_finished_before": len(done), "processes_killed": len(victims),
                        "trials_in_flight": in_flight,
                        "busy_worker_titles": [proc_title(q) for q in busy_b],
                    }  # fmt: skip
            time.sleep(0.5)
        stdout, stderr = search.communicate(timeout=60)
        report["search_seconds"] = round(time.perf_counter() - t0, 1)
        report["search_returncode"] = search.returncode
        report["search_stderr_tail"] = stderr[-1500:]
        journal = read_journal(out / "journal.jsonl")
        proposed = Counter(r["trial"] for r in journal if r.get("event") == "proposed")
        results = Counter(r["trial"] for r in journal if r.get("event") in ("finished", "failed"))
        finished = [r for r in journal if r.get("event") == "finished"]
        failed = [r for r in journal if r.get("event") == "failed"]
        report["journal"] = {
            "trials_proposed": len(proposed),
            "proposed_more_than_once": sorted(t for t, c in proposed.items() if c > 1),
            "results_more_than_once": sorted(t for t, c in results.items() if c > 1),
            "proposed_without_result": sorted(set(proposed) - set(results)),
            "finished": len(finished),
            "failed": [{"trial": r["trial"], "error": r.get("error")} for r in failed],
            "finished_per_node": dict(Counter(node_ids.get(r["info"].get("ray_node"), "?") for r in finished)),
            "trial_nodes": [[r["trial"], node_ids.get(r["info"].get("ray_node"), "?")] for r in finished],
        }  # fmt: skip
        j = report["journal"]
        report["ok"] = bool(
            search.returncode == 0
            and killed_at is not None
            and j["trials_proposed"] == args.budget
            and not j["proposed_more_than_once"]
            and not j["results_more_than_once"]
            and not j["proposed_without_result"]
            and j["finished"] + len(j["failed"]) == args.budget
        )
    finally:
        if search is not None and search.poll() is None:
            search.kill()
        mine = set(pids_matching(str(base)))
        for q in list(mine):
            mine.update(descendants(q))
        kill(mine)
        time.sleep(1)
        report["left_running"] = len(pids_matching(str(base)))
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        report["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(json.dumps(report, indent=2))
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
