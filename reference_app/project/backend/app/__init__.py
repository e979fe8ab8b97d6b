"""The backend under the package name the spec's commands use (``app``)."""
