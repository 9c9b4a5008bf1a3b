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
    done         BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    -- JSON report when finished (counts, errors by line).
    report       TEXT,
    error        TEXT,
    attempts     BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    created_at   BIGINT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    PRIMARY KEY (store_id, id),
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed'))
);
CREATE INDEX jobs_due ON jobs (status, created_at);
CREATE INDEX jobs_store ON jobs (store_id, created_at);
