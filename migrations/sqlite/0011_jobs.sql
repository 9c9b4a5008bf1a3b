-- Background jobs (catalog import and export): queued by a request, run by
-- any node's worker under a lease, with progress and a report.

CREATE TABLE jobs (
    store_id     TEXT NOT NULL REFERENCES stores(id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    -- JSON: what the job was asked to do (e.g. {"skip_bad_rows": true}).
    options      TEXT NOT NULL,
    -- Blob keys of the uploaded file and of the result file.
    input_key    TEXT,
    output_key   TEXT,
    done         INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    -- JSON report when finished (counts, errors by line).
    report       TEXT,
    error        TEXT,
    attempts     INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    PRIMARY KEY (store_id, id),
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed'))
);
CREATE INDEX jobs_due ON jobs (status, created_at);
CREATE INDEX jobs_store ON jobs (store_id, created_at);
