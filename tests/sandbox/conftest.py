"""Fixtures of the escape suite; the helpers themselves live in `escape_kit`.

Test modules import helpers from `escape_kit`, never from `conftest`: every suite has a
conftest module, and which one `import conftest` finds depends on collection order.
"""

from escape_kit import (  # noqa: F401  (pytest finds fixtures by name in this module)
    _codex_present,
    arena,
    control_arena,
    forkbomb_binary,
    listeners,
    victim_factory,
)
