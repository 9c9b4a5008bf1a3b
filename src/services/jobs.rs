//! Background jobs: catalog import and export run outside the request that
//! asked for them, on any node's worker, with progress staff can watch and
//! a report (every bad row with its line) or a file to download when done.
//!
//! A job runs with the catalog permissions of the staff member who asked,
//! checked when asking. If its node dies, the lease runs out and another
//! worker runs it again from the start: imports match products by id and
//! SKU, so a second run updates what the first created instead of copying it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::actor::{Actor, Ctx, Permission};
use super::{App, ServiceError, ServiceResult, audit, catalog_csv, now_ms};
use crate::db::jobs::{self as sql, JobRow};
use crate::domain::access::PermissionSet;
use crate::domain::ids;
use crate::domain::validation::FieldErrors;
use crate::providers::blob::BlobKey;

/// How long a worker holds a job between progress reports.
const LEASE: Duration = Duration::from_secs(60);
/// Runs before a job that keeps failing is given up.
const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    CatalogImport,
    CatalogExport,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::CatalogImport => "catalog_import",
            JobKind::CatalogExport => "catalog_export",
        }
    }

    fn parse(s: &str) -> Option<JobKind> {
        [JobKind::CatalogImport, JobKind::CatalogExport].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    pub kind: JobKind,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// Products handled so far, of `total` (0 until counted).
    pub done: i64,
    pub total: i64,
    /// Whole percent, for progress bars.
    pub percent: i64,
    /// When finished: an import's counts and errors by line; an export's row count.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Why the job failed, when it did.
    pub error: Option<String>,
    /// Store-relative path of the result file (exports), once ready.
    pub download: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

fn view(j: JobRow) -> JobView {
    let percent = if j.status == "succeeded" {
        100
    } else if j.total > 0 {
        (j.done * 100 / j.total).clamp(0, 99)
    } else {
        0
    };
    JobView {
        download: j.output_key.as_ref().map(|_| format!("/api/v1/jobs/{}/file", j.id)),
        kind: JobKind::parse(&j.kind).unwrap_or(JobKind::CatalogImport),
        report: j.report.as_deref().and_then(|r| serde_json::from_str(r).ok()),
        id: j.id,
        status: j.status,
        done: j.done,
        total: j.total,
        percent,
        error: j.error,
        created_at: j.created_at,
        started_at: j.started_at,
        finished_at: j.finished_at,
    }
}

fn blob_key(store_id: &str, job_id: &str, file: &str) -> ServiceResult<BlobKey> {
    BlobKey::parse(&format!("jobs/{store_id}/{job_id}/{file}"))
        .ok_or_else(|| ServiceError::Internal("job blob key".into()))
}

async fn enqueue(
    app: &App,
    ctx: &Ctx,
    kind: JobKind,
    options: serde_json::Value,
    input: Option<Vec<u8>>,
) -> ServiceResult<JobView> {
    let id = ids::new_id("job");
    let input_key = match input {
        Some(bytes) => {
            let key = blob_key(&ctx.store.id, &id, "input.csv")?;
            app.blobs.put(&key, bytes).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
            Some(key.to_string())
        }
        None => None,
    };
    let row = JobRow {
        store_id: ctx.store.id.clone(),
        id: id.clone(),
        kind: kind.as_str().into(),
        status: "queued".into(),
        requested_by: ctx.actor.principal(),
        options: options.to_string(),
        input_key,
        output_key: None,
        done: 0,
        total: 0,
        report: None,
        error: None,
        attempts: 0,
        created_at: now_ms(),
        started_at: None,
        finished_at: None,
    };
    sql::insert(&app.db, &row).await?;
    audit::record_alone(app, ctx, &format!("jobs.{}_requested", kind.as_str()), &id, options).await?;
    app.jobs_wakeup.notify_one();
    Ok(view(row))
}

/// Queues an import of a catalog CSV (format in `docs/catalog-csv.md`).
pub async fn start_import(app: &App, ctx: &Ctx, csv: Vec<u8>, skip_bad_rows: bool) -> ServiceResult<JobView> {
    ctx.actor.require(Permission::CatalogManage)?;
    if csv.iter().all(u8::is_ascii_whitespace) {
        let mut errs = FieldErrors::default();
        errs.add("file", "empty", "the file is empty");
        return Err(errs.into());
    }
    enqueue(app, ctx, JobKind::CatalogImport, json!({ "skip_bad_rows": skip_bad_rows }), Some(csv)).await
}

/// Queues an export of the whole catalog as CSV.
pub async fn start_export(app: &App, ctx: &Ctx) -> ServiceResult<JobView> {
    ctx.actor.require(Permission::CatalogRead)?;
    enqueue(app, ctx, JobKind::CatalogExport, json!({}), None).await
}

pub async fn get(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<JobView> {
    ctx.actor.require(Permission::CatalogRead)?;
    Ok(view(sql::get(&app.db, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?))
}

pub async fn recent(app: &App, ctx: &Ctx, limit: i64) -> ServiceResult<Vec<JobView>> {
    ctx.actor.require(Permission::CatalogRead)?;
    Ok(sql::recent(&app.db, &ctx.store.id, limit.clamp(1, 100)).await?.into_iter().map(view).collect())
}

/// A finished export's file: (file name, bytes).
pub async fn file(app: &App, ctx: &Ctx, id: &str) -> ServiceResult<(String, Vec<u8>)> {
    ctx.actor.require(Permission::CatalogRead)?;
    let job = sql::get(&app.db, &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    let key = job.output_key.as_deref().and_then(BlobKey::parse).ok_or(ServiceError::NotFound)?;
    let bytes =
        app.blobs.get(&key).await.map_err(|e| ServiceError::Internal(e.to_string()))?.ok_or(ServiceError::NotFound)?;
    Ok((format!("catalog-{}.csv", job.id), bytes))
}

// ---- running ----

/// Runs the next due job, if any; false when there was none.
pub async fn run_next(app: &App, owner: &str) -> ServiceResult<bool> {
    let now = now_ms();
    let Some(job) = sql::claim(&app.db, owner, now, now + LEASE.as_millis() as i64).await? else {
        return Ok(false);
    };
    if job.attempts > MAX_ATTEMPTS {
        sql::finish(
            &app.db,
            &job.store_id,
            &job.id,
            owner,
            "failed",
            None,
            None,
            Some("gave up after repeated interruptions"),
            now_ms(),
        )
        .await?;
        return Ok(true);
    }
    let progress = Arc::new((AtomicI64::new(job.done), AtomicI64::new(job.total)));
    let reporter = tokio::spawn(report_progress(app.clone(), job.clone(), owner.to_string(), progress.clone()));
    let outcome = run(app, &job, progress.clone()).await;
    reporter.abort();
    let (done, total) = (progress.0.load(Ordering::Relaxed), progress.1.load(Ordering::Relaxed));
    sql::progress(&app.db, &job.store_id, &job.id, owner, done, total, now_ms() + LEASE.as_millis() as i64).await?;
    let (status, report, output, error) = match outcome {
        Ok((report, output)) => ("succeeded", Some(report.to_string()), output, None),
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "job failed");
            ("failed", None, None, Some(e.to_string()))
        }
    };
    sql::finish(
        &app.db,
        &job.store_id,
        &job.id,
        owner,
        status,
        report.as_deref(),
        output.as_deref(),
        error.as_deref(),
        now_ms(),
    )
    .await?;
    Ok(true)
}

/// Writes progress (and renews the lease) every half second while the job runs.
async fn report_progress(app: App, job: JobRow, owner: String, progress: Arc<(AtomicI64, AtomicI64)>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (done, total) = (progress.0.load(Ordering::Relaxed), progress.1.load(Ordering::Relaxed));
        let lease_until = now_ms() + LEASE.as_millis() as i64;
        if let Err(e) = sql::progress(&app.db, &job.store_id, &job.id, &owner, done, total, lease_until).await {
            tracing::warn!(job = %job.id, error = %e, "job progress not recorded");
        }
    }
}

async fn run(
    app: &App,
    job: &JobRow,
    progress: Arc<(AtomicI64, AtomicI64)>,
) -> ServiceResult<(serde_json::Value, Option<String>)> {
    let store = crate::db::stores::by_id(app.db.pool(), &job.store_id).await?.ok_or(ServiceError::NotFound)?;
    let ctx = Ctx {
        store: Arc::new(store),
        actor: Actor::Staff {
            id: job.requested_by.clone(),
            role: "job".into(),
            permissions: PermissionSet::from([Permission::CatalogRead, Permission::CatalogManage]),
        },
        client_ip: "job".into(),
    };
    let on_progress = |done: usize, total: usize| {
        progress.0.store(done as i64, Ordering::Relaxed);
        progress.1.store(total as i64, Ordering::Relaxed);
    };
    match JobKind::parse(&job.kind) {
        Some(JobKind::CatalogImport) => {
            let key = job.input_key.as_deref().and_then(BlobKey::parse).ok_or(ServiceError::NotFound)?;
            let data = app
                .blobs
                .get(&key)
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?
                .ok_or_else(|| ServiceError::Internal("the uploaded file is gone".into()))?;
            let skip = serde_json::from_str::<serde_json::Value>(&job.options)
                .ok()
                .and_then(|o| o["skip_bad_rows"].as_bool())
                .unwrap_or(false);
            let report = catalog_csv::import(app, &ctx, &data, skip, on_progress).await?;
            Ok((serde_json::to_value(&report).unwrap_or_default(), None))
        }
        Some(JobKind::CatalogExport) => {
            let mut out = Vec::new();
            let rows = catalog_csv::export(app, &ctx, &mut out, on_progress).await?;
            let key = blob_key(&job.store_id, &job.id, "export.csv")?;
            app.blobs.put(&key, out).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
            Ok((json!({ "rows": rows }), Some(key.to_string())))
        }
        None => Err(ServiceError::Internal(format!("unknown job kind {}", job.kind))),
    }
}

/// Deletes finished jobs older than `days` and their files.
pub async fn purge(app: &App, days: u32) -> ServiceResult<usize> {
    let before = now_ms() - i64::from(days) * 86_400_000;
    let old = sql::finished_before(&app.db, before, 500).await?;
    for (store_id, id, input, output) in &old {
        for key in [input, output].into_iter().flatten().filter_map(|k| BlobKey::parse(k)) {
            app.blobs.delete(&key).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        }
        sql::delete(&app.db, store_id, id).await?;
    }
    Ok(old.len())
}
