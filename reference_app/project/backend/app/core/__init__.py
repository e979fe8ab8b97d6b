"""The backend's core modules under the spec's names."""
