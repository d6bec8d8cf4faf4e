"""The one error type config loading raises, formatted the way compilers report problems."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem the user must fix; the CLI prints it and exits 2.

    `str(err)` is `<where>:<line>: <key.path>: <what is wrong>`; `where` is a file path, or the
    flag that carried the value (`-c`, `--profile`, ...). Line and key are left out when unknown.
    """

    def __init__(
        self,
        where: str,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.where = where
        self.line = line
        self.key = key
        self.message = message
        super().__init__(self._format())

    def _format(self) -> str:
        location = self.where if self.line is None else f"{self.where}:{self.line}"
        if self.key:
            return f"{location}: {self.key}: {self.message}"
        return f"{location}: {self.message}"
