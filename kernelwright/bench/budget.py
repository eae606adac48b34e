"""Parse human budgets: "90s", "2m", "1h30m", "120" (seconds)."""
from __future__ import annotations

import re

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_budget(text: str | float | int) -> float:
    """Seconds in `text`; raises ValueError with a one-line hint when it cannot be read."""
    if isinstance(text, (int, float)):
        return float(text)
    cleaned = text.strip().lower().replace(" ", "")
    try:
        return float(cleaned)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"budget {text!r} not understood; use seconds or e.g. 90s, 2m, 1h30m")
    return sum(float(n) * _UNITS[u] for n, u in parts)
