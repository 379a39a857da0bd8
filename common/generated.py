"""Documents generated from code (AsyncAPI, Kubernetes manifests): written, or checked to be current."""

import sys
from pathlib import Path


def write_or_check(path: str | Path, text: str, command: str, args: list[str], summary: str = "") -> int:
    """``--check`` in ``args``: exit 1 if the committed file differs (CI catches a stale copy)."""
    path = Path(path)
    if "--check" in args:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}{f' ({summary})' if summary else ''}")
    return 0
