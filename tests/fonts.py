"""Whether this machine has a font that writes Chinese, asked of the font files themselves (not of the drawing
code under test): the tests that need one skip without it, and CI installs none."""

from __future__ import annotations

import functools

NO_CJK_FONT = "no font with CJK glyphs is installed on this machine (Debian: apt-get install fonts-noto-cjk)"


@functools.cache
def cjk_font_installed() -> bool:
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        try:
            font = font_manager.get_font(path)
            if font.get_char_index(ord("李")) and not font.family_name.startswith("Last Resort"):  # boxes only
                return True
        except (OSError, RuntimeError):
            continue
    return False
