#!/usr/bin/env bash
# Print the rpy2 requirement that fits the installed R: rpy2 3.6 needs R >= 4.5.
set -euo pipefail
r_version=$(Rscript -e 'cat(as.character(getRversion()))')
if printf '%s\n4.5.0\n' "$r_version" | sort -V -C; then
  echo "rpy2>=3.5,<3.6"
else
  echo "rpy2>=3.5"
fi
