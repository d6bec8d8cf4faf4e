"""Linux confinement: probe, namespaces, Landlock, seccomp and the re-executed helper.

Everything here is stdlib-only (pyseccomp is imported lazily by the seccomp layer) because
the helper imports it on every sandboxed command.
"""

# argv[1] that turns `codex` into the sandbox helper (checked in codex.__main__ before any
# other import). Not a user-facing command: the runner passes the policy on a pipe.
HELPER_TOKEN = "__codex_sandbox_helper__"
