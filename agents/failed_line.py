"""Quote the candidate's own lines that a verdict points at, so the model sees exactly what failed.

A static finding says "line 12: ... [rule]"; a compile or runtime traceback names the candidate's
file and a line. Both are resolved against the attempt's saved source.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MAX_QUOTED = 3
_MESSAGE_LINE = re.compile(r"\bline (\d+)\b")


def failing_lines(attempt: dict[str, Any]) -> str:
    """"Line 12 of the kernel: `y = _k(x)`" for each line (at most three) the verdict names; "" if none."""
    path = attempt.get("source_path")
    try:
        lines = Path(path).read_text().splitlines() if path else []
    except OSError:
        return ""
    if not lines:
        return ""
    verdict = attempt.get("verdict") or {}
    numbers = [int(n) for n in _MESSAGE_LINE.findall(str(verdict.get("message") or ""))]
    frame = re.compile(rf'File "[^"]*{re.escape(Path(path).name)}", line (\d+)')
    numbers += [int(n) for n in frame.findall(str(verdict.get("logs") or ""))][::-1]  # innermost frame first
    quoted = []
    for number in dict.fromkeys(numbers):
        if 1 <= number <= len(lines) and lines[number - 1].strip():
            quoted.append(f"Line {number} of the kernel: `{lines[number - 1].strip()}`")
    return "\n".join(quoted[:MAX_QUOTED])
