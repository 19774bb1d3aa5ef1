#!/usr/bin/env bash
# R CMD check on the built R package (r_wrapper/): fails on any ERROR or WARNING; NOTEs are
# printed and allowed. The testthat suite is left to scripts/run_r_tests.R (run once, with its
# CI rule that skips count as failures), so the check runs with --no-tests; the examples run
# (they need the Python engine: RETICULATE_PYTHON, as the Makefile exports it).
#
#   bash scripts/check_r_package.sh          (KEEP_CHECK=1 keeps the check's folder, for its logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap '[ -n "${KEEP_CHECK:-}" ] || rm -rf "$work"' EXIT
cd "$work"

started=$SECONDS
# The tarball carries the engine's source (install_pyimportance() installs it): R CMD build does
# not run configure, so refresh the copy here (r_wrapper/configure; the copy is git-ignored).
(cd "$root/r_wrapper" && sh ./configure >/dev/null)
if ! R CMD build --no-build-vignettes "$root/r_wrapper" >build.log 2>&1; then
  cat build.log
  exit 1
fi
tarball=$(ls pyimportance_*.tar.gz)
# Installed here, not inside the check: the check's own installation would put a folder named
# "pyimportance" in the examples' working directory, which Python (reticulate puts the working
# directory first on sys.path) takes for the engine, and the examples would not run.
mkdir library
if ! R CMD INSTALL --library=library "$tarball" >install.log 2>&1; then
  cat install.log
  exit 1
fi
R_LIBS="$work/library${R_LIBS:+:$R_LIBS}" _R_CHECK_FORCE_SUGGESTS_=false \
  R CMD check --no-manual --no-tests --install=skip --library="$work/library" "$tarball" >check.log 2>&1 || true
status=$(grep -E "^Status:" check.log | tail -1 || true)
seconds=$((SECONDS - started))

if [ -z "$status" ] || grep -qE "ERROR|WARNING" <<<"$status"; then
  cat check.log
  for log in pyimportance.Rcheck/00install.out pyimportance.Rcheck/pyimportance-Ex.Rout; do
    [ -f "$log" ] && tail -40 "$log"
  done
  echo "R CMD check: ${status:-no status} (${seconds} s)"
  exit 1
fi
if grep -q "NOTE" <<<"$status"; then
  grep -B1 -A6 "\.\.\. NOTE" check.log || true
fi
# The examples run their Python parts only where pyimportance_available() is TRUE; CI has Python.
examples=pyimportance.Rcheck/pyimportance-Ex.Rout
if grep -A1 -x "> pyimportance_available()" "$examples" | grep -qx "\[1\] TRUE"; then
  engine="examples ran with the Python engine"
else
  engine="examples ran WITHOUT the Python engine"
  if [ "${CI:-false}" = "true" ]; then
    echo "R CMD check: $status, but $engine (CI=true needs it)"
    exit 1
  fi
fi
echo "R CMD check: $status (${seconds} s; $engine)"
