import subprocess
import sys

from skipsnn.cli import main


def test_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert "skipsnn" in out


def test_unknown_command_exits_2():
    r = subprocess.run(
        [sys.executable, "-m", "skipsnn.cli", "no-such-command"], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
