# The R package's reference as pages of the documentation site: one Markdown page per Rd topic of
# the package's source (R's own tools::Rd2HTML, the HTML that R's help shows) and an index page
# listing every topic with its title, so a topic added to r_wrapper/man/ appears without edits.
#
#   Rscript scripts/docs_r_reference.R PACKAGE_DIR OUTPUT_DIR        (r_wrapper docs/reference/r)
# A link to another topic of the package points to that topic's page; links into other packages'
# help come out as plain text (their help is not part of this site).

rd_title <- function(rd) {
  tags <- vapply(rd, function(part) attr(part, "Rd_tag"), "")
  trimws(gsub("\\s+", " ", paste(unlist(rd[[which(tags == "\\title")]]), collapse = "")))
}

rd_aliases <- function(rd) {
  tags <- vapply(rd, function(part) attr(part, "Rd_tag"), "")
  vapply(rd[tags == "\\alias"], function(part) paste(unlist(part), collapse = ""), "")
}

#' The fragment's links: a topic of the package (by any alias) to its page, other packages' to text.
site_links <- function(html, page_of_alias) {
  own <- regmatches(html, gregexpr('href="\\.\\./\\.\\./[^"/]*/(help|html)/[^"]*\\.html"', html))
  for (link in unique(unlist(own))) {
    alias <- sub('^href="\\.\\./\\.\\./[^"/]*/(help|html)/(.*)\\.html"$', "\\2", link)
    if (alias %in% names(page_of_alias) && grepl('^href="\\.\\./\\.\\.//', link)) {
      html <- gsub(link, sprintf('href="%s.html"', page_of_alias[[alias]]), html, fixed = TRUE)
    }
  }
  gsub('<a href="\\.\\./\\.\\./[^"]*">(.*?)</a>', "\\1", html, perl = TRUE)
}

main <- function(package_dir, output_dir) {
  db <- tools::Rd_db(dir = package_dir)
  if (!length(db)) stop("no Rd files in ", file.path(package_dir, "man"))
  dir.create(output_dir, recursive = TRUE, showWarnings = FALSE)
  unlink(list.files(output_dir, "\\.md$", full.names = TRUE))
  stems <- tools::file_path_sans_ext(names(db))
  aliases <- lapply(db, rd_aliases)
  page_of_alias <- stats::setNames(rep(stems, lengths(aliases)), unlist(aliases, use.names = FALSE))
  # Rd2HTML links only the topics it is told of (as R's own help would: package "", topic's file)
  links <- stats::setNames(paste0("../../pyimportance/html/", page_of_alias, ".html"), names(page_of_alias))
  titles <- character(0)
  for (i in seq_along(db)) {
    html_file <- tempfile(fileext = ".html")
    tools::Rd2HTML(db[[i]], out = html_file, fragment = TRUE, Links = links, Links2 = character())
    html <- readLines(html_file, warn = FALSE, encoding = "UTF-8")
    html <- site_links(html[html != "<h3>NA</h3>"], page_of_alias)
    # The fragment opens with the topic's name and title as plain lines; the page heading says them.
    first_heading <- grep("^<h3>", html)[1]
    if (!is.na(first_heading)) html <- html[first_heading:length(html)]
    title <- rd_title(db[[i]])
    titles[stems[i]] <- title
    page <- c(sprintf("# %s: %s", gsub("_", "\\\\_", stems[i]), title), "",
              '<div class="rd-topic" markdown="0">', html, "</div>", "")
    writeLines(page, file.path(output_dir, paste0(stems[i], ".md")), useBytes = TRUE)
  }
  index <- c("# R reference", "",
             "Every help topic of the R package (`help(package = \"pyimportance\")`), made from its Rd files.", "",
             "| topic | title |", "| --- | --- |",
             sprintf("| [`%s`](%s.md) | %s |", names(titles), names(titles), titles), "")
  writeLines(index, file.path(output_dir, "index.md"), useBytes = TRUE)
  cat(sprintf("R reference: %d topics -> %s\n", length(db), output_dir))
}

arguments <- commandArgs(trailingOnly = TRUE)
if (length(arguments) != 2L) stop("usage: Rscript scripts/docs_r_reference.R PACKAGE_DIR OUTPUT_DIR")
main(arguments[1], arguments[2])
