"""The operator's branding on the privacy center and the admin console: a name, a logo and an accent colour.

Read from ``HOME/branding.yaml`` (``policykeeper serve`` does so), for example::

    branding:
      name: Kamoer Privacy           # shown at the top of every page, instead of the pack's legal name
      logo: kamoer-logo.png          # a PNG, JPEG, WebP or SVG file, relative to HOME; at most 200 KB
      accent: "#0b6e4f"              # links and buttons; must be readable on white (contrast 4.5:1 or more)

Every key is optional. The logo is embedded in the page as a ``data:`` URL, so the pages keep their Content Security
Policy (``img-src 'self' data:``) and load nothing from elsewhere. A colour that white text cannot be read on, an
unknown image type or a file too large is refused when the server starts, naming the file and the key.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import ConfigError
from .._settings import read_settings_file

__all__ = ["DEFAULT_ACCENT", "Branding", "contrast_on_white", "load_branding"]

DEFAULT_ACCENT = "#0b57d0"
MAX_LOGO = 200_000
_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
          ".svg": "image/svg+xml"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Branding:
    """What the pages show of the operator; empty values mean the defaults (the pack's legal name, no logo)."""

    name: str = ""
    logo: str = ""
    """A ``data:`` URL of the logo image, or empty."""
    accent: str = DEFAULT_ACCENT


def contrast_on_white(colour: str) -> float:
    """The WCAG contrast ratio of ``#rrggbb`` against white."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def load_branding(home: Path) -> Branding:
    """The branding in ``home/branding.yaml`` (the defaults when there is no such file)."""
    path = home / "branding.yaml"
    found = read_settings_file(path, ("branding",), "branding")["branding"]
    unknown = set(found) - {"name", "logo", "accent"}
    if unknown:
        raise ConfigError(f"{path}: branding has no {', '.join(sorted(map(str, unknown)))} (name, logo, accent)")
    name = found.get("name") or ""
    if not isinstance(name, str) or len(name) > 100 or any(ch in name for ch in "<>\n"):
        raise ConfigError(f"{path}: branding.name must be one line of text, up to 100 characters")
    accent = found.get("accent") or DEFAULT_ACCENT
    if not isinstance(accent, str) or not _HEX.fullmatch(accent):
        raise ConfigError(f"{path}: branding.accent must be a colour written #rrggbb, like \"#0b6e4f\"")
    if contrast_on_white(accent) < 4.5:
        raise ConfigError(f"{path}: branding.accent {accent} is too light to read on white (contrast "
                          f"{contrast_on_white(accent):.1f}:1; it needs 4.5:1); choose a darker colour")
    logo = ""
    if found.get("logo"):
        file = (home / str(found["logo"])).expanduser()
        kind = _TYPES.get(file.suffix.lower())
        if kind is None:
            raise ConfigError(f"{path}: branding.logo must be a PNG, JPEG, WebP or SVG file")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: branding.logo {file} cannot be read: {type(exc).__name__}") from None
        if len(data) > MAX_LOGO:
            raise ConfigError(f"{path}: branding.logo is {len(data)} bytes; keep it under {MAX_LOGO}")
        logo = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    return Branding(name=name.strip(), logo=logo, accent=accent.lower())
