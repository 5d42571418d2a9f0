//! A card (markdown, from a record) as HTML: pulldown-cmark, with every piece of raw
//! HTML shown as text, every link or image with a scheme (`https:`, `javascript:`,
//! `data:`) made inert so the report stays offline, and image links `figures/<name>`
//! resolved to the files the report copied them to.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
use std::collections::BTreeMap;

/// `md` as HTML. `figures` maps a card's figure link (`figures/<name>`, decoded) to
/// where the report holds that figure, relative to the page.
pub fn card_html(md: &str, figures: &BTreeMap<String, String>) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(md, opts).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: image_url(&dest_url, figures),
            title,
            id,
        }),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: if has_scheme(&dest_url) {
                CowStr::Borrowed("#")
            } else {
                dest_url
            },
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn image_url<'a>(dest: &str, figures: &BTreeMap<String, String>) -> CowStr<'a> {
    match figures.get(&percent_decode(dest)) {
        Some(local) => CowStr::Boxed(local.clone().into_boxed_str()),
        // Anything else would be fetched (or would fail offline): nothing is.
        None => CowStr::Borrowed(""),
    }
}

/// Whether a URL names a scheme (`x:` before any `/`, `?` or `#`).
fn has_scheme(url: &str) -> bool {
    let end = url.find(['/', '?', '#']).unwrap_or(url.len());
    url[..end].contains(':')
}

/// `%XX` sequences decoded (the card's links are `model::figures::url_path`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_text_and_schemes_are_inert() {
        let figs = BTreeMap::from([("figures/a b.png".to_string(), "../figures/x.png".into())]);
        let h = card_html(
            "<script>alert(1)</script>\n\nhi <b>x</b> [l](javascript:alert(1)) \
             ![f](figures/a%20b.png) ![r](https://example.com/x.png)",
            &figs,
        );
        assert!(!h.contains("<script") && !h.contains("<b>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(!h.contains("javascript:") && !h.contains("https:"), "{h}");
        assert!(h.contains("src=\"../figures/x.png\""), "{h}");
    }

    #[test]
    fn decodes_percent() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert!(has_scheme("data:x") && !has_scheme("figures/a:b"));
    }
}
