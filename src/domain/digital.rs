//! Digital delivery rules with no I/O: what a licence key may look like,
//! the text a download link signs, and whether a download may start.

use serde::Serialize;

/// Longest licence key taken (serials, activation codes, URLs).
pub const MAX_KEY_LEN: usize = 500;
/// Most keys added in one request.
pub const MAX_KEYS_PER_BATCH: usize = 10_000;
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A key as it is stored and compared: surrounding blanks trimmed, no
/// control characters, 1..=MAX_KEY_LEN characters. `None` when unusable.
pub fn normalise_key(raw: &str) -> Option<String> {
    let key = raw.trim();
    let ok = !key.is_empty() && key.chars().count() <= MAX_KEY_LEN && !key.chars().any(char::is_control);
    ok.then(|| key.to_string())
}

/// What a download link's signature covers: the grant and the expiry the
/// link states, so neither can be altered without the store's key.
pub fn link_message(grant_id: &str, expires_at: i64) -> String {
    format!("{grant_id}.{expires_at}")
}

/// Why a download is refused although the link is genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    Expired,
    UsedUp,
}

/// May one more download start at `now`?
pub fn may_download(now: i64, expires_at: i64, downloads: i64, max_downloads: i64) -> Result<(), Refusal> {
    if now >= expires_at {
        Err(Refusal::Expired)
    } else if downloads >= max_downloads {
        Err(Refusal::UsedUp)
    } else {
        Ok(())
    }
}

/// A file name safe to put in `Content-Disposition`: path parts dropped,
/// anything outside printable ASCII (and quotes, backslashes) replaced.
pub fn attachment_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() { "download".into() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_checked() {
        assert_eq!(normalise_key("  ABCD-1234 \n").as_deref(), Some("ABCD-1234"));
        assert_eq!(normalise_key("   "), None);
        assert_eq!(normalise_key("AB\u{7}CD"), None);
        assert_eq!(normalise_key(&"x".repeat(MAX_KEY_LEN)).map(|k| k.len()), Some(MAX_KEY_LEN));
        assert_eq!(normalise_key(&"x".repeat(MAX_KEY_LEN + 1)), None);
    }

    #[test]
    fn downloads_stop_at_expiry_or_the_limit() {
        assert_eq!(may_download(999, 1000, 0, 3), Ok(()));
        assert_eq!(may_download(1000, 1000, 0, 3), Err(Refusal::Expired));
        assert_eq!(may_download(10, 1000, 2, 3), Ok(()));
        assert_eq!(may_download(10, 1000, 3, 3), Err(Refusal::UsedUp));
    }

    #[test]
    fn attachment_names_cannot_escape_the_header() {
        assert_eq!(attachment_name("guide.pdf"), "guide.pdf");
        assert_eq!(attachment_name("../../etc/passwd"), "passwd");
        assert_eq!(attachment_name("a\"b\r\nc.pdf"), "a_b__c.pdf");
        assert_eq!(attachment_name("Handbuch für Köche.pdf"), "Handbuch f_r K_che.pdf");
        assert_eq!(attachment_name(".."), "download");
        assert_eq!(link_message("dlg_1", 5), "dlg_1.5");
    }
}
