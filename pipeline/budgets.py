"""Budgets: what reading one document may cost, each limit with the flag that raises it.

Everything sized by the input is checked against these before it is allocated: the
file's bytes while they are read, a zip container's unpacked size from its directory,
a table's filled grid (rows × columns once spans and merges are filled) before it is
built. Memory and wall-clock time are enforced around the whole parse, in a worker
process (builds.run_stage), because no reader can count every byte a library allocates.
"""

import re
from dataclasses import dataclass

MIB = 1024 * 1024
# Signed 32-bit: the INTEGER columns (duties.seq, steps.number…) hold this much on PostgreSQL,
# and SQLite must refuse what PostgreSQL refuses.
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Budget:
    """Limits per document; 0 turns max_memory or timeout off."""

    max_bytes: int = 50 * MIB  # the file as stored; unpacked xlsx/docx may be 4 times this
    max_cells: int = 2_000_000  # a table's or a sheet's filled grid, rows × columns
    max_memory: int = 1024 * MIB  # address space of the worker process that parses it
    timeout: float = 60.0  # seconds of wall-clock time to read and normalize it

    @property
    def max_unpacked(self) -> int:
        return 4 * self.max_bytes

    @property
    def isolated(self) -> bool:
        """Whether documents must be parsed in a worker process, where limits can be enforced."""
        return bool(self.max_memory or self.timeout)


DEFAULT = Budget()

# Messages name the limit and the flag that raises it, in one form everywhere.
FLAGS = {"max_bytes": "--max-bytes", "max_cells": "--max-cells", "max_memory": "--max-memory",
         "timeout": "--timeout"}


def over(limit: str, value: str) -> str:
    """over("max_cells", "2,000,000-cell") -> "over the 2,000,000-cell limit (raise it with
    --max-cells if the file is genuine)"."""
    return f"over the {value} limit (raise it with {FLAGS[limit]} if the file is genuine)"


SIZE = re.compile(r"(\d+)\s*([kmgt]?)i?b?", re.I)


def parse_size(text: str) -> int:
    """Bytes from a size a person writes: parse_size("512M") -> 536870912; "0" -> 0.

    parse_size("1G") -> 1073741824; parse_size("2048") -> 2048
    """
    match = SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size such as 512M, 2G or 1048576")
    number, unit = match.groups()
    return int(number) << 10 * " kmgt".index(unit.lower() or " ")
