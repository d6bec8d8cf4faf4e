"""Linux confinement: probe, namespaces, Landlock, seccomp and the re-executed helper.

Everything here is stdlib-only (pyseccomp is imported lazily by the seccomp layer) because
the helper imports it on every sandboxed command.
"""
