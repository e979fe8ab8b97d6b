"""How the system under test is reached: an existing URL, or the embedded reference app."""

from harness.targets.base import Capability, Target
from harness.targets.url import UrlTarget

__all__ = ["Capability", "Target", "UrlTarget"]
