"""Files of the deployment's repository, parsed: the example environment file, the variables
a Compose file reads, and the base images (with their versions) of a Dockerfile."""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass

# ${VAR}, ${VAR:-default}, ${VAR?err} and $VAR; $$ is a literal dollar in Compose files
_COMPOSE_VAR = re.compile(
    r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE|CREDENTIAL", re.I)
_PLACEHOLDER = re.compile(
    r"change|example|placeholder|your[-_]|replace|dummy|xxx|<[^>]*>|not[-_]?set|todo|redacted",
    re.I,
)
# credentials that are real whatever the variable is called
_KNOWN_SECRETS = re.compile(
    r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:([^@\s]+)@", re.I)
_MIN_RANDOM_LENGTH = 24
_RANDOM_BITS_PER_CHAR = 3.5  # a word or a host name stays well below; a token is above


def env_values(text: str) -> dict[str, str]:
    """NAME -> value of a ``.env`` file, as python-dotenv (what Compose-like tools use) reads
    it; a name without a value maps to ''."""
    from dotenv import dotenv_values

    return {name: value or "" for name, value in dotenv_values(stream=io.StringIO(text)).items()}


def compose_variables(text: str) -> set[str]:
    """The environment variables a Compose file interpolates."""
    found = set()
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for braced, bare in _COMPOSE_VAR.findall(line):
            found.add(braced or bare)
    return found


_TOKEN = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_\-.]+$")


def bits_per_char(value: str) -> float:
    """Shannon entropy of the value's characters: how unpredictable each one is."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def is_placeholder(value: str) -> bool:
    """Whether the value carries a placeholder marker (change-me, your-..., <...>, xxx)."""
    return _PLACEHOLDER.search(value) is not None


def url_password(value: str) -> str | None:
    """The password of a URL like ``postgresql://user:password@host/db``, else None."""
    match = _URL_PASSWORD.match(value)
    return match.group(1) if match else None


def _looks_random(value: str) -> bool:
    """A token: letters and digits in one run, long and of high entropy (a URL, a list of
    hosts or a phrase like change-me-to-a-long-value is none)."""
    if len(value) < _MIN_RANDOM_LENGTH or not _TOKEN.match(value):
        return False
    return bits_per_char(value) >= _RANDOM_BITS_PER_CHAR


def real_secrets(values: dict[str, str]) -> list[str]:
    """Names whose value looks like a real credential rather than a placeholder: a known
    credential format, a random-looking token, or a non-placeholder value of a variable named
    as a secret (a password inside a URL included)."""
    found: list[str] = []
    for name, value in values.items():
        url_password = _URL_PASSWORD.match(value)
        secret = url_password.group(1) if url_password else value
        named_secret = url_password is not None or _SECRET_NAME.search(name) is not None
        if _KNOWN_SECRETS.search(value):
            found.append(name)
        elif _PLACEHOLDER.search(secret) or not secret:
            continue
        elif _looks_random(secret) or named_secret:
            found.append(name)
    return found


@dataclass(frozen=True)
class BaseImage:
    """One ``FROM`` of a Dockerfile: its image, tag and stage name."""

    image: str
    tag: str
    stage: str | None

    def version(self) -> tuple[int, ...] | None:
        """The leading version of the tag: ``3.12-slim`` -> (3, 12); None without one."""
        match = re.match(r"(\d+(?:\.\d+)*)", self.tag)
        return tuple(int(p) for p in match.group(1).split(".")) if match else None


_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)", re.I | re.M)


def base_images(dockerfile: str) -> list[BaseImage]:
    """The stages of a Dockerfile in order, build arguments' defaults substituted."""
    args = dict(_ARG.findall(dockerfile))

    def expand(text: str) -> str:
        return re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: args.get(m.group(1), m.group(0)), text
        )

    images: list[BaseImage] = []
    for reference, stage in _FROM.findall(dockerfile):
        name, _, tag = expand(reference).partition("@")[0].rpartition(":")
        if not name or "/" in tag:  # no tag (or a registry port): latest
            name, tag = expand(reference), "latest"
        images.append(BaseImage(name.rsplit("/", 1)[-1], tag, stage or None))
    return images


def final_base(images: list[BaseImage]) -> BaseImage | None:
    """The image the final stage stands on, through stages built on earlier stages."""
    if not images:
        return None
    current = images[-1]
    stages = {image.stage: image for image in images if image.stage}
    seen: set[str] = set()
    while current.image in stages and current.image not in seen and current.tag == "latest":
        seen.add(current.image)
        current = stages[current.image]
    return current


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).split("."))
