"""`./dev`'s install of Debian packages, with apt-get and id stood in for: what is missing comes in
one `apt-get update` and one `apt-get install`; one package that cannot be had keeps no other out."""
from __future__ import annotations

import subprocess
from pathlib import Path

DEV = Path(__file__).resolve().parents[1] / "dev"


def run(entries: list[str], uid: int = 0, failing: str = "") -> tuple[int, list[str], str]:
    """Run dev's install_debian_packages on `entries` as `uid`; an install naming `failing` fails.

    Returns (exit code, the apt-get calls made, stderr)."""
    functions = subprocess.run(["sed", "-n", "/^install_debian_packages() {/,/^}/p; /^apt_install() {/,/^}/p",
                                str(DEV)], check=True, capture_output=True, text=True).stdout
    assert "install_debian_packages()" in functions and "apt_install()" in functions
    script = f"""set -euo pipefail
{functions}
id() {{ echo {uid}; }}
apt-get() {{
  echo "$*" >&3
  [ -z "$FAILING" ] || [ "$1" != install ] || [[ " $* " != *" $FAILING "* ]]
}}
install_debian_packages "$@"
"""
    done = subprocess.run(["bash", "-c", f"exec 3>&1 1>/dev/null; {script}", "dev", *entries], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "FAILING": failing})
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_everything_missing_comes_in_one_update_and_one_install_and_lean_ones_in_a_second():
    code, calls, err = run(["redis-server|required|the tests", "chromium fonts-liberation|optional|the browser",
                            "prometheus|optional|promtool|lean"])
    assert code == 0, err
    assert calls == ["update -qq", "install -y -qq redis-server chromium fonts-liberation",
                     "install -y -qq --no-install-recommends prometheus"]
    assert "dev: installing chromium fonts-liberation (the browser)" in err


def test_a_lean_package_that_cannot_be_had_is_tried_alone_without_recommends():
    code, calls, err = run(["nginx|optional|the nginx test", "prometheus|optional|promtool|lean"], failing="prometheus")
    assert code == 0, err
    assert calls == ["update -qq", "install -y -qq nginx", "install -y -qq --no-install-recommends prometheus",
                     "install -y -qq nginx", "install -y -qq --no-install-recommends prometheus"]
    assert "dev: could not install prometheus; skipped: promtool" in err


def test_nothing_missing_runs_no_apt_get():
    assert run([]) == (0, [], "")


def test_an_optional_package_that_cannot_be_had_keeps_no_other_out():
    code, calls, err = run(["redis-server|required|the tests", "nginx|optional|the nginx test"], failing="nginx")
    assert code == 0, err
    assert calls == ["update -qq", "install -y -qq redis-server nginx", "install -y -qq redis-server",
                     "install -y -qq nginx"]
    assert "dev: could not install nginx; skipped: the nginx test" in err


def test_a_required_package_that_cannot_be_had_stops_dev():
    code, calls, err = run(["redis-server|required|the tests (they run a real Redis)"], failing="redis-server")
    assert code == 1
    assert "dev: could not install redis-server, needed for the tests (they run a real Redis)" in err


def test_without_root_it_says_what_to_install_and_installs_nothing():
    code, calls, err = run(["nginx|optional|the nginx test"], uid=1000)
    assert (code, calls) == (0, [])
    assert "dev: skipped without Debian's nginx: the nginx test (sudo apt-get install nginx)" in err
    code, calls, err = run(["redis-server|required|the tests", "nginx|optional|the nginx test"], uid=1000)
    assert (code, calls) == (1, [])
    assert "dev: Debian's redis-server is needed for the tests: sudo apt-get install redis-server" in err
