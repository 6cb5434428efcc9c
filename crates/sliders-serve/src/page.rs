//! The page's assets: one static HTML file with its CSS and JavaScript inline, embedded in the
//! binary with `include_str!` (no build step, nothing fetched from elsewhere).

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_is_self_contained() {
        assert!(super::PAGE.starts_with("<!doctype html>"));
        // Everything inline: no external script, style sheet or font.
        for needle in ["src=\"http", "href=\"http", "<script src", "@import"] {
            assert!(
                !super::PAGE.contains(needle),
                "the page references `{needle}`"
            );
        }
    }
}
