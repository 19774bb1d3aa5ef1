#!/usr/bin/env bash
# Install R and the R packages the wrapper, its tests and the vignettes need, from Debian,
# when they are missing. Does nothing when everything is already there.
set -euo pipefail
need_packages=(r-base-core r-base-dev r-cran-reticulate r-cran-testthat r-cran-rmarkdown r-cran-knitr r-cran-ggplot2 r-cran-generics r-cran-tibble pandoc)
have_everything() {
  command -v Rscript >/dev/null 2>&1 && command -v pandoc >/dev/null 2>&1 &&
    Rscript -e 'for (p in c("reticulate","testthat","rmarkdown","knitr","ggplot2","generics","tibble")) if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)' >/dev/null 2>&1
}
if have_everything; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "Installing R from Debian packages: ${need_packages[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
have_everything
