-- Second factor for staff (TOTP) and the store setting that requires it
-- for owners.
ALTER TABLE staff_users ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE staff_users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE staff_users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE stores ADD COLUMN require_owner_mfa INTEGER NOT NULL DEFAULT 0;
