#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (text with SGR colour escapes) to a PNG.

Usage: ansi_to_png.py INPUT.ansi OUTPUT.png [--columns N] [--rows N]

Text is drawn with DejaVu Sans Mono (Debian's fonts-dejavu-core). Box drawing, block
elements and braille (the throughput chart) are drawn as shapes on the cell grid, so lines
join across cells and no glyph is missing. Colours: the 16 ANSI colours of a dark theme, plus
the 256-colour cube and 24-bit colours should a view ever use them.
"""

import argparse
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_SIZE = 15
PADDING = 12

BACKGROUND = (24, 26, 33)
FOREGROUND = (208, 212, 220)
# Black, red, green, yellow, blue, magenta, cyan, white; then the bright ones.
PALETTE = [
    (40, 42, 54), (224, 96, 96), (122, 196, 110), (226, 192, 100),
    (84, 132, 214), (196, 120, 214), (86, 192, 206), (200, 204, 212),
    (108, 114, 130), (255, 124, 124), (150, 226, 136), (248, 220, 128),
    (120, 164, 240), (222, 150, 240), (120, 222, 236), (244, 246, 250),
]

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9])")


def color_256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    level = 8 + (n - 232) * 10
    return (level, level, level)


class Style:
    def __init__(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.dim = False
        self.italic = False
        self.underline = False
        self.reverse = False

    def copy(self):
        other = Style()
        other.__dict__.update(self.__dict__)
        return other

    def apply(self, params):
        codes = [int(p) if p else 0 for p in re.split("[;:]", params)] if params else [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                self.__init__()
            elif code == 1:
                self.bold = True
            elif code == 2:
                self.dim = True
            elif code == 3:
                self.italic = True
            elif code == 4:
                self.underline = True
            elif code == 7:
                self.reverse = True
            elif code == 22:
                self.bold = self.dim = False
            elif code == 23:
                self.italic = False
            elif code == 24:
                self.underline = False
            elif code == 27:
                self.reverse = False
            elif 30 <= code <= 37:
                self.fg = PALETTE[code - 30]
            elif 90 <= code <= 97:
                self.fg = PALETTE[code - 90 + 8]
            elif 40 <= code <= 47:
                self.bg = PALETTE[code - 40]
            elif 100 <= code <= 107:
                self.bg = PALETTE[code - 100 + 8]
            elif code == 39:
                self.fg = None
            elif code == 49:
                self.bg = None
            elif code in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    value = color_256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    value = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    value = None
                if code == 38:
                    self.fg = value
                else:
                    self.bg = value
            i += 1

    def colors(self):
        fg = self.fg or FOREGROUND
        bg = self.bg or BACKGROUND
        if self.reverse:
            fg, bg = self.bg or BACKGROUND, self.fg or FOREGROUND
        if self.dim:
            fg = tuple((f + b) // 2 for f, b in zip(fg, bg))
        return fg, bg


def parse(text, columns, rows):
    """The screen as rows of (char, Style) cells."""
    grid = [[(" ", Style()) for _ in range(columns)] for _ in range(rows)]
    style = Style()
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        pos = 0
        while pos < len(line):
            match = SGR.match(line, pos)
            if match:
                style.apply(match.group(1))
                pos = match.end()
                continue
            other = OTHER_ESCAPE.match(line, pos)
            if other:
                pos = other.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\r":
                continue
            if x < columns:
                grid[y][x] = (ch, style.copy())
            x += 1
        # The rest of the row keeps the background in effect at its end.
        while x < columns:
            grid[y][x] = (" ", style.copy())
            x += 1
    return grid


# Box drawing: which arms (up, right, down, left) each light line character has.
ARMS = {
    "─": "rl", "│": "ud", "┌": "rd", "┐": "ld", "└": "ur", "┘": "ul",
    "├": "urd", "┤": "uld", "┬": "rdl", "┴": "url", "┼": "urdl",
    "╭": "rd", "╮": "ld", "╰": "ur", "╯": "ul", "╴": "l", "╵": "u", "╶": "r", "╷": "d",
}
HEAVY = {"━": "rl", "┃": "ud", "┏": "rd", "┓": "ld", "┗": "ur", "┛": "ul"}
DOUBLE = {"═": "rl", "║": "ud", "╔": "rd", "╗": "ld", "╚": "ur", "╝": "ul"}
SHADES = {"░": 0.25, "▒": 0.5, "▓": 0.75}


def draw_arms(draw, arms, box, fg, width):
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    half = width // 2
    if "u" in arms:
        draw.rectangle([cx - half, y0, cx - half + width - 1, cy + half], fill=fg)
    if "d" in arms:
        draw.rectangle([cx - half, cy - half, cx - half + width - 1, y1], fill=fg)
    if "l" in arms:
        draw.rectangle([x0, cy - half, cx + half, cy - half + width - 1], fill=fg)
    if "r" in arms:
        draw.rectangle([cx - half, cy - half, x1, cy - half + width - 1], fill=fg)


def draw_shape(draw, ch, box, fg, bg):
    """Draw `ch` as a shape when it is a line, block or braille character; False otherwise."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0 + 1, y1 - y0 + 1
    if ch in ARMS:
        draw_arms(draw, ARMS[ch], box, fg, 1)
    elif ch in HEAVY:
        draw_arms(draw, HEAVY[ch], box, fg, 3)
    elif ch in DOUBLE:
        draw_arms(draw, DOUBLE[ch], box, fg, 1)
    elif ch == "█":
        draw.rectangle(box, fill=fg)
    elif ch in SHADES:
        mix = SHADES[ch]
        color = tuple(int(f * mix + b * (1 - mix)) for f, b in zip(fg, bg))
        draw.rectangle(box, fill=color)
    elif "\u2581" <= ch <= "\u2587":  # lower eighths
        eighths = ord(ch) - 0x2580
        draw.rectangle([x0, y1 - h * eighths // 8 + 1, x1, y1], fill=fg)
    elif "\u2589" <= ch <= "\u258f":  # left eighths, 7/8 down to 1/8
        eighths = 0x2590 - ord(ch)
        draw.rectangle([x0, y0, x0 + max(w * eighths // 8, 1) - 1, y1], fill=fg)
    elif ch == "▀":
        draw.rectangle([x0, y0, x1, y0 + h // 2 - 1], fill=fg)
    elif ch == "▐":
        draw.rectangle([x0 + w // 2, y0, x1, y1], fill=fg)
    elif "\u2800" <= ch <= "\u28ff":
        bits = ord(ch) - 0x2800
        # Dot n of the pattern: (column, row) in the 2x4 grid.
        dots = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
        radius = max(1, min(w // 4, h // 8) - 1)
        for n, (col, row) in enumerate(dots):
            if bits & (1 << n):
                cx = x0 + w * (2 * col + 1) // 4
                cy = y0 + h * (2 * row + 1) // 8
                draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fg)
    else:
        return False
    return True


def render(grid, out):
    fonts = {
        (False, False): ImageFont.truetype(f"{FONT_DIR}/DejaVuSansMono.ttf", FONT_SIZE),
        (True, False): ImageFont.truetype(f"{FONT_DIR}/DejaVuSansMono-Bold.ttf", FONT_SIZE),
        (False, True): ImageFont.truetype(f"{FONT_DIR}/DejaVuSansMono-Oblique.ttf", FONT_SIZE),
        (True, True): ImageFont.truetype(
            f"{FONT_DIR}/DejaVuSansMono-BoldOblique.ttf", FONT_SIZE
        ),
    }
    regular = fonts[(False, False)]
    cell_w = round(regular.getlength("M"))
    ascent, descent = regular.getmetrics()
    cell_h = ascent + descent + 2
    rows, columns = len(grid), len(grid[0])
    image = Image.new(
        "RGB", (columns * cell_w + 2 * PADDING, rows * cell_h + 2 * PADDING), BACKGROUND
    )
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(grid):
        for x, (ch, style) in enumerate(row):
            fg, bg = style.colors()
            x0, y0 = PADDING + x * cell_w, PADDING + y * cell_h
            box = (x0, y0, x0 + cell_w - 1, y0 + cell_h - 1)
            if bg != BACKGROUND:
                draw.rectangle(box, fill=bg)
            if ch != " " and not draw_shape(draw, ch, box, fg, bg):
                font = fonts[(style.bold, style.italic)]
                draw.text((x0, y0 + 1), ch, font=font, fill=fg)
            if style.underline:
                draw.line([(x0, y0 + cell_h - 2), (x0 + cell_w - 1, y0 + cell_h - 2)], fill=fg)
    image.save(out, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--rows", type=int, default=30)
    args = parser.parse_args()
    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    render(parse(text, args.columns, args.rows), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
