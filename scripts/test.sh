#!/usr/bin/env bash
# Install everything the tests need, then run them:
#  - system packages for the browser test (Debian's Chromium, its driver, Korean fonts);
#  - the project into .venv (CPU-only torch from the pinned 2.13.0 wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || packages+=(chromium chromium-driver)
[[ -d /usr/share/fonts/opentype/noto ]] || packages+=(fonts-noto-cjk)
if ((${#packages[@]})); then
  echo "installing system packages: ${packages[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${packages[@]}"
fi
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[dev]'
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
