#!/usr/bin/env bash
# Regenerate assets/screenshots/*.png from the running `airlock demo` (not part of CI).
#
# Builds airlock, installs Pillow into the checkout's .venv (created when missing), and runs
# scripts/screenshots.py, which drives the demo in a private tmux server and renders each
# `capture-pane -e` with scripts/ansi_to_png.py. Needs tmux and fonts-dejavu-core.
# The raw captures (.ansi) are left in a temp dir printed at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v tmux >/dev/null || { echo "screenshots need tmux (apt-get install tmux)" >&2; exit 2; }
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] ||
    { echo "screenshots need fonts-dejavu-core" >&2; exit 2; }

cargo build --quiet --bin airlock
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -c "import PIL" 2>/dev/null ||
    .venv/bin/pip install --quiet --disable-pip-version-check Pillow

work=$(mktemp -d -t airlock-shots-XXXXXX)
.venv/bin/python scripts/screenshots.py "$PWD/target/debug/airlock" "$work"
echo "captures in $work"
