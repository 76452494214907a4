# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the ``spark.jars`` settings of a spark-defaults.conf outside one managed block.

Spark loads spark-defaults.conf with java.util.Properties, where a repeated key's
last value wins. A role that appends its own ``spark.jars`` in a managed block
would silently drop the jars an administrator listed earlier, so the role merges
them instead: this filter returns the jars listed outside the block (live lines,
and lines the role has already commented out with ``moved_prefix``) and the live
lines to comment out.
"""

from __future__ import annotations

import re

_KEY_RE = re.compile(r"^\s*spark\.jars(?:\s*[=:]\s*|\s+)(?P<value>.*)$")


def _split(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def spark_defaults_jars(text, begin, end, moved_prefix):
    jars, lines, inside = [], [], False
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped == begin.strip():
            inside = True
            continue
        if stripped == end.strip():
            inside = False
            continue
        if inside:
            continue
        if line.startswith(moved_prefix):
            match = _KEY_RE.match(line[len(moved_prefix):])
        elif stripped.startswith(("#", "!")):
            continue
        else:
            match = _KEY_RE.match(line)
            if match:
                lines.append(line)
        if match:
            jars.extend(jar for jar in _split(match.group("value")) if jar not in jars)
    return {"jars": jars, "lines": lines}


class FilterModule:
    def filters(self):
        return {"spark_defaults_jars": spark_defaults_jars}
