//! The SQLite writer's second connection, driven synchronously (rusqlite)
//! by whoever holds the writer.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, so every
//! statement is a hand-off to that thread and back. While a transaction
//! holds the one writer, those hand-offs are most of its hold (measured:
//! ~0.7 ms held per checkout, of which SQLite's own work is a fraction),
//! and every other write waits for them. On this connection a statement runs
//! in place, on the thread of the transaction holding the writer (the
//! writer's thread, see [`super::writer_thread`]), so the hold is the work.
//!
//! Statements come as sqlx builds them (`$N` placeholders, [`AnyArguments`])
//! and rows go back as [`AnyRow`]s typed as sqlx's SQLite driver types them
//! (by the value's storage class), so code reading them runs unchanged on
//! either connection and on PostgreSQL.

use std::borrow::Cow;
use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx_core::any::{AnyArguments, AnyColumn, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

use super::Answer;

/// Prepared statements kept per connection: every hot write transaction's
/// statements, with room to spare.
const STATEMENT_CACHE: usize = 256;

pub(super) struct SyncConn {
    conn: rusqlite::Connection,
}

impl SyncConn {
    /// Opens the existing database file `path` (never creates it; see
    /// [`super::Db::connect`]) with the same settings as sqlx's connections.
    pub(super) fn open(path: &std::path::Path) -> Result<Self, sqlx::Error> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        for pragma in super::SQLITE_PRAGMAS {
            // `journal_mode` answers with a row; the others with none.
            conn.query_row(pragma, [], |_| Ok(())).or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(error(e)),
            })?;
        }
        Ok(Self { conn })
    }

    /// Runs a statement without arguments or rows (`BEGIN`, `COMMIT`, ...).
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.conn.execute_batch(sql).map_err(error)
    }

    /// Runs one statement with its arguments; its rows and changed-row count.
    pub(super) fn run(&mut self, sql: &str, args: Option<AnyArguments>) -> Result<Answer, sqlx::Error> {
        let values = args.map(|a| a.values.0).unwrap_or_default();
        let mut stmt = self.conn.prepare_cached(sql).map_err(error)?;
        bind(&mut stmt, &values)?;
        let count = stmt.column_count();
        let columns: Vec<AnyColumn> = (0..count)
            .map(|i| AnyColumn {
                ordinal: i,
                name: UStr::new(stmt.column_name(i).unwrap_or_default()),
                type_info: AnyTypeInfo { kind: AnyTypeInfoKind::Null },
            })
            .collect();
        let names: Arc<sqlx_core::HashMap<UStr, usize>> =
            Arc::new(columns.iter().map(|c| (c.name.clone(), c.ordinal)).collect());
        let readonly = stmt.readonly();
        let mut answer = Answer::default();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(error)? {
            let mut values = Vec::with_capacity(count);
            let mut cols = columns.clone();
            for (i, col) in cols.iter_mut().enumerate() {
                let kind = value_of(row.get_ref(i).map_err(error)?);
                col.type_info = AnyTypeInfo { kind: kind_of(&kind) };
                values.push(AnyValue { kind });
            }
            answer.rows.push(AnyRow { column_names: names.clone(), columns: cols, values });
        }
        drop(rows);
        answer.rows_affected = if readonly { 0 } else { self.conn.changes() };
        Ok(answer)
    }
}

/// Binds `$N` (and `?N`) placeholders to argument N, as sqlx does; a bare
/// `?` takes the next argument.
fn bind(stmt: &mut rusqlite::Statement<'_>, values: &[AnyValueKind]) -> Result<(), sqlx::Error> {
    let mut next = 0;
    for index in 1..=stmt.parameter_count() {
        let at = match stmt.parameter_name(index) {
            Some(name) => name[1..]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(|| sqlx::Error::Protocol(format!("unsupported placeholder {name}")))?,
            None => {
                next += 1;
                next - 1
            }
        };
        let value = values.get(at).ok_or_else(|| {
            sqlx::Error::Protocol(format!("placeholder {index} has no argument ({} given)", values.len()))
        })?;
        stmt.raw_bind_parameter(index, Arg(value)).map_err(error)?;
    }
    Ok(())
}

/// An sqlx argument as rusqlite binds it (sqlx's SQLite driver binds the same).
struct Arg<'a>(&'a AnyValueKind);

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value;
        Ok(match self.0 {
            AnyValueKind::Null(_) => ToSqlOutput::Owned(Value::Null),
            AnyValueKind::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
            AnyValueKind::SmallInt(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
            AnyValueKind::Integer(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
            AnyValueKind::BigInt(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            AnyValueKind::Real(r) => ToSqlOutput::Owned(Value::Real(f64::from(*r))),
            AnyValueKind::Double(d) => ToSqlOutput::Owned(Value::Real(*d)),
            AnyValueKind::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            AnyValueKind::TextSlice(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            AnyValueKind::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(format!("unsupported argument {other:?}").into()));
            }
        })
    }
}

/// A value typed by its storage class, as sqlx's SQLite driver types it.
fn value_of(v: ValueRef<'_>) -> AnyValueKind {
    match v {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(t) => AnyValueKind::Text(Arc::new(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => AnyValueKind::Blob(Arc::new(b.to_vec())),
    }
}

fn kind_of(v: &AnyValueKind) -> AnyTypeInfoKind {
    match v {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

/// A rusqlite error as sqlx reports SQLite's: constraint violations keep
/// their kind (callers map a unique violation to a conflict).
fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => sqlx::Error::Database(Box::new(SqliteFailure {
            code: code.extended_code,
            message: message.unwrap_or_else(|| code.to_string()),
        })),
        other => sqlx::Error::Protocol(format!("sqlite: {other}")),
    }
}

#[derive(Debug)]
struct SqliteFailure {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
