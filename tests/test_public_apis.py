"""The package's speed-ups stand on public APIs: no private papermill, jupyter_client or standard-library attribute
(a pool's ``_processes``, an attribute reached by name with ``getattr(x, "_...")``), no ``os._exit``,
no ``/proc/stat`` sampling, no writes to ``/proc``. A scan of ``runbook/``'s sources, naming the file and line."""

import re
from pathlib import Path

import runbook

PACKAGE = Path(runbook.__file__).parent
#: What must not appear in the package, and why.
FORBIDDEN = {
    r"\b(km|kc|client|kernel_client|manager|kernel_manager|nb_man|nb_client|notebook_client|provisioner"
    r"|papermill|nbclient|jupyter_client)\._[a-z]": "a private papermill/nbclient/jupyter_client attribute",
    r"\b_handle_kernel_info_reply\b|\b_async_is_alive\b|\b_async_[a-z_]+\(": "a private jupyter_client method",
    r"\bnb_man\.save\b": "papermill's execution manager patched",
    r"\b(pool|executor|process|popen|thread|manager)\._[a-z]": "a private standard-library attribute",
    r"""\bgetattr\([^,]+,\s*["']_[a-z]""": "a private attribute reached by name",
    r"\bos\._exit\b": "os._exit (leave by SystemExit after cleanup)",
    r"/proc/stat\b": "/proc/stat sampling",
    r"/autogroup\b": "the scheduler's autogroup (/proc)",
}
#: A write to /proc: a path under /proc opened for writing, or written to, on the same line.
PROC_WRITE = re.compile(
    r"""open\([^)]*/proc/[^)]*,\s*(mode=)?["'][^"']*[wa+]"""
    r"""|/proc/.*\.(write_text|write_bytes|write)\("""
)


def offences(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(root.parent)}:{number}: {line.strip()}"
            found += [f"{where}  ({why})" for pattern, why in FORBIDDEN.items() if re.search(pattern, line)]
            if PROC_WRITE.search(line):
                found.append(f"{where}  (a write to /proc)")
    return found


def test_the_package_uses_no_private_api_nor_writes_to_proc():
    assert offences() == [], "\n".join(offences())


def test_the_scan_finds_each_kind_of_offence(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "bad.py").write_text(
        "self._handle_kernel_info_reply(reply)\n"
        "nb_man.save = throttled\n"
        "os._exit(code)\n"
        "open('/proc/stat').readline()\n"
        "Path(f'/proc/{pid}/autogroup').write_text('10')\n"
        "km._launch_args\n"
        "with open(f'/proc/{pid}/oom_score_adj', 'w') as f: pass\n"
        "pids = list(pool._processes)\n"
        "getattr(pool, '_processes', None)\n"
        "ok = client.wait_for_ready(timeout=1)\n"
    )
    lines = offences(package)
    assert {int(line.split(":")[1]) for line in lines} == {1, 2, 3, 4, 5, 6, 7, 8, 9}, lines
    assert lines[0].startswith("pkg/bad.py:1: ")
