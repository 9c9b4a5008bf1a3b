//! Product descriptions are Markdown, rendered to a safe subset of HTML:
//! raw HTML in the source is shown as text (never passed through), and
//! links and images keep only http(s), mailto and relative targets, so a
//! stored `<script>`, `onerror=` or `javascript:` link never reaches a page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any slash, ? or # is a scheme: allow only these.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// Markdown to HTML that is safe to embed in a page.
pub fn render_markdown(source: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut dropped_links = 0usize;
    let events = Parser::new_ext(source, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { dest_url, .. }) if !safe_url(&dest_url) => {
            dropped_links += 1;
            None
        }
        Event::End(pulldown_cmark::TagEnd::Link) if dropped_links > 0 => {
            dropped_links -= 1;
            None
        }
        Event::Start(Tag::Image { dest_url, title, id, link_type }) if !safe_url(&dest_url) => {
            Some(Event::Start(Tag::Image { dest_url: CowStr::Borrowed(""), title, id, link_type }))
        }
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        let h = render_markdown("**Light** shoe.\n\n- grippy\n- warm\n\n[Care](https://example.com/care)");
        assert!(h.contains("<strong>Light</strong>"), "{h}");
        assert!(h.contains("<li>grippy</li>"), "{h}");
        assert!(h.contains("<a href=\"https://example.com/care\">Care</a>"), "{h}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "Hello <b onmouseover=alert(1)>there</b>",
            "<iframe src=\"https://evil.example\"></iframe>",
        ] {
            let h = render_markdown(attack);
            assert!(
                !h.contains("<script") && !h.contains("<img") && !h.contains("<b ") && !h.contains("<iframe"),
                "{h}"
            );
            assert!(h.contains("&lt;"), "escaped: {h}");
        }
    }

    #[test]
    fn dangerous_link_targets_are_dropped() {
        for md in [
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "[click](vbscript:x)",
        ] {
            let h = render_markdown(md);
            assert!(!h.to_ascii_lowercase().contains("script:") && !h.contains("data:"), "{h}");
            assert!(h.contains("click"), "the text stays: {h}");
            assert!(!h.contains("<a"), "{h}");
        }
        let h = render_markdown("![x](javascript:alert(1))");
        assert!(!h.to_ascii_lowercase().contains("javascript"), "{h}");
        assert!(render_markdown("[ok](/p/boots)").contains("href=\"/p/boots\""));
        assert!(render_markdown("[ok](mailto:a@b.example)").contains("mailto:"));
    }
}
