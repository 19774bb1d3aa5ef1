#!/usr/bin/env bash
# Install what `make docs` needs from Debian, when it is missing: headless chromium for the
# browser test (tests/docs/test_site.py) and a font for it. Does nothing when it is already there.
# The Python side (mkdocs-material, mkdocstrings, nbclient, playwright) is the `docs` extra of
# pyproject.toml; the R reference is made from the Rd files with R's own tools::Rd2HTML.
set -euo pipefail
need_packages=(chromium fonts-dejavu-core)
have_everything() {
  command -v chromium >/dev/null 2>&1 && [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]
}
if have_everything; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "Installing the documentation tools from Debian packages: ${need_packages[*]}"
# Another apt-get may hold the lock (a parallel `make`): wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${need_packages[@]}" >/dev/null
have_everything
