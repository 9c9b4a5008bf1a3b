-- One grant per order line and file: a delivery that ran twice cannot
-- hand out a second set of links.
CREATE UNIQUE INDEX download_grants_line_file ON download_grants (store_id, order_id, line_no, file_id);
