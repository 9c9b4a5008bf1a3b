//! Writes a transaction queues instead of sending one by one (see
//! [`super::Tx::defer`]). On SQLite every statement is a hand-off to the
//! connection's thread and back, which under load costs far more than the
//! statement itself (measured: about 60 µs against 5–20 µs of work), and
//! the one writer is held all that time. Writes whose answer nobody needs
//! wait here and travel in one multi-statement text together with the next
//! statement that does need an answer, or with the commit.
//!
//! SQLite numbers `$N` placeholders absolutely across the statements of one
//! text, so each queued statement's placeholders are shifted past the
//! arguments of the ones before it.

use sqlx::any::AnyArguments;

/// Queued statements: one text and the arguments of all of them, in order.
#[derive(Default)]
pub(super) struct Deferred {
    sql: String,
    args: AnyArguments,
    statements: usize,
    /// Statements whose answers are kept: (index in the text, answer slot).
    kept: Vec<(usize, usize)>,
}

impl Deferred {
    pub(super) fn is_empty(&self) -> bool {
        self.statements == 0
    }

    /// How many statements are queued.
    pub(super) fn len(&self) -> usize {
        self.statements
    }

    /// Queues a statement whose answer goes to `slot` when the text runs.
    pub(super) fn push_kept(&mut self, sql: &str, args: Option<AnyArguments>, slot: usize) {
        self.kept.push((self.statements, slot));
        self.push(sql, args);
    }

    /// Some queued statement's answer is wanted.
    pub(super) fn keeps_any(&self) -> bool {
        !self.kept.is_empty()
    }

    pub(super) fn push(&mut self, sql: &str, args: Option<AnyArguments>) {
        if self.statements > 0 {
            self.sql.push_str(";\n");
        }
        shift_placeholders(sql, self.args.values.0.len(), &mut self.sql);
        if let Some(args) = args {
            self.args.values.0.extend(args.values.0);
        }
        self.statements += 1;
    }

    /// The queued text and arguments, leaving the queue empty.
    pub(super) fn take(&mut self) -> (String, AnyArguments) {
        self.statements = 0;
        self.kept.clear();
        (std::mem::take(&mut self.sql), std::mem::take(&mut self.args))
    }

    /// As [`Deferred::take`], also which statements' answers are kept.
    pub(super) fn take_keeping(&mut self) -> (String, AnyArguments, Vec<(usize, usize)>) {
        let kept = std::mem::take(&mut self.kept);
        let (sql, args) = self.take();
        (sql, args, kept)
    }
}

/// Appends `sql` to `out` with every placeholder numbered past `offset`:
/// `$N` and `?N` become `$(N+offset)`, and each bare `?` the next number
/// after the previous one. Quoted strings, quoted names and comments are
/// copied as they are.
fn shift_placeholders(sql: &str, offset: usize, out: &mut String) {
    let bytes = sql.as_bytes();
    let mut bare = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                // Up to the closing quote; a doubled quote stays inside.
                let end = bytes[i + 1..].iter().position(|&b| b == quote).map_or(bytes.len(), |p| i + 1 + p + 1);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                let end = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").map_or(bytes.len(), |p| i + 2 + p + 2);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'$' | b'?' => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let n = if digits > 0 {
                    sql[i + 1..i + 1 + digits].parse::<usize>().unwrap_or(0)
                } else if bytes[i] == b'?' {
                    bare += 1;
                    bare
                } else {
                    // A lone `$` is not a placeholder.
                    out.push('$');
                    i += 1;
                    continue;
                };
                out.push('$');
                out.push_str(&(n + offset).to_string());
                i += 1 + digits;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'\'' | b'"' | b'`' | b'-' | b'/' | b'$' | b'?') {
                    i += 1;
                }
                if i == start {
                    out.push(bytes[i] as char);
                    i += 1;
                } else {
                    out.push_str(&sql[start..i]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shift_placeholders;

    fn shifted(sql: &str, offset: usize) -> String {
        let mut out = String::new();
        shift_placeholders(sql, offset, &mut out);
        out
    }

    #[test]
    fn numbered_and_bare_placeholders_move_past_the_offset() {
        assert_eq!(shifted("UPDATE t SET a = $1 WHERE b = $12", 3), "UPDATE t SET a = $4 WHERE b = $15");
        assert_eq!(shifted("INSERT INTO t VALUES (?, ?), (?, ?)", 2), "INSERT INTO t VALUES ($3, $4), ($5, $6)");
        assert_eq!(shifted("SELECT ?2, ?1", 10), "SELECT $12, $11");
        assert_eq!(shifted("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn quoted_text_and_comments_are_left_alone() {
        assert_eq!(
            shifted("SELECT '$1 it''s ?' || \"a$1\" -- $1 ?\n, $1 /* ? $2 */ - $2", 5),
            "SELECT '$1 it''s ?' || \"a$1\" -- $1 ?\n, $6 /* ? $2 */ - $7"
        );
        // Multi-byte text passes through unchanged.
        assert_eq!(shifted("SELECT '手机' || $1 || 'é'", 1), "SELECT '手机' || $2 || 'é'");
    }
}
