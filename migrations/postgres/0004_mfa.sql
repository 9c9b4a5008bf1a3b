-- Second factor for staff (TOTP) and the store setting that requires it
-- for owners.
ALTER TABLE staff_users ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE staff_users ADD COLUMN totp_enabled_at BIGINT;
ALTER TABLE staff_users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE stores ADD COLUMN require_owner_mfa BIGINT NOT NULL DEFAULT 0;
