//! Signing in and out, and turning a session token back into an [`Actor`].
//! Passwords are hashed with argon2id on the blocking pool; tokens are
//! random, and only their SHA-256 is stored.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use serde_json::json;

use super::actor::{Actor, Ctx};
use super::{App, ServiceError, ServiceResult, now_ms};
use super::{audit, rate_limit};
use crate::db::{customers, sessions, staff};
use crate::domain::stores::Store;

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_PASSWORD_LEN: usize = 10;
/// Absolute session lifetime, and how long an unused session stays valid.
const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
const SESSION_IDLE_MS: i64 = 60 * 60 * 1000;

pub async fn hash_password(password: &str) -> ServiceResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| ServiceError::Internal(e.to_string()))?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// A hash of a random password, verified against when the account does not
/// exist so that both paths take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"oxcart-dummy-salt").expect("valid salt");
    argon2().hash_password(b"not-a-real-password", &salt).expect("hashing works").to_string()
});

async fn verify_password(password: &str, hash: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = PasswordHash::new(&hash)
            .map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && exists
    })
    .await
    .unwrap_or(false)
}

/// Checks a password against a stored hash (on the blocking pool).
pub async fn password_matches(password: &str, hash: &str) -> bool {
    verify_password(password, Some(hash.to_string())).await
}

/// A new session: the raw token goes to the client once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub actor: Actor,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    Customer,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Staff => "staff",
            Audience::Customer => "customer",
        }
    }
}

/// Checks the password and opens a session. The error never says whether
/// the account exists. Failed attempts are limited per account (then the
/// account is locked until the window ends) and per client address, and
/// every attempt is audited. A hash made with older parameters is
/// upgraded on success.
pub async fn login(
    app: &App,
    ctx: &Ctx,
    audience: Audience,
    email: &str,
    password: &str,
) -> ServiceResult<LoginOutcome> {
    let store = &ctx.store;
    let email_index = app.email_index(&store.id, email);
    rate_limit::hit(app, &store.id, &format!("login-ip:{}", ctx.client_ip), rate_limit::LOGIN_PER_ADDRESS).await?;
    if let Err(e) = rate_limit::check_failures(app, &store.id, &email_index).await {
        audit::record_alone(
            app,
            ctx,
            "auth.login_locked",
            &email_index[..16],
            json!({ "audience": audience.as_str() }),
        )
        .await?;
        return Err(e);
    }
    let (principal, hash) = match audience {
        Audience::Staff => {
            let row = staff::by_email_index(app.db.pool(), &store.id, &email_index).await?;
            let hash = row.as_ref().map(|r| r.password_hash.clone());
            let actor = match row {
                Some(r) => staff_actor(app, store, r.id, r.role).await?,
                None => None,
            };
            (actor, hash)
        }
        Audience::Customer => {
            let row = customers::by_email_index(app.db.pool(), &store.id, &email_index).await?;
            let hash = row.as_ref().map(|r| r.password_hash.clone());
            (row.map(|r| Actor::Customer { id: r.id }), hash)
        }
    };
    let verified = verify_password(password, hash.clone()).await;
    let actor = match principal {
        Some(actor) if verified => actor,
        _ => {
            // Count the failure for the account whether or not it exists, so
            // the lock-out itself reveals nothing.
            rate_limit::record_failure(app, &store.id, &email_index).await;
            audit::record_alone(
                app,
                ctx,
                "auth.login_failed",
                &email_index[..16],
                json!({ "audience": audience.as_str() }),
            )
            .await?;
            return Err(ServiceError::InvalidCredentials);
        }
    };
    if let Some(old) = hash.filter(|h| needs_rehash(h)) {
        upgrade_hash(app, &store.id, &actor, password, &old).await?;
    }
    if let Actor::Staff { id, .. } = &actor
        && super::mfa::is_enabled(app, &store.id, id).await?
    {
        let challenge = random_token();
        let mut tx = app.db.begin().await?;
        crate::db::mail::insert_token(
            &mut tx,
            &store.id,
            &token_hash(&challenge),
            "mfa",
            id,
            now_ms() + MFA_CHALLENGE_TTL_MS,
        )
        .await?;
        tx.commit().await?;
        return Ok(LoginOutcome::SecondFactor { challenge });
    }
    finish_login(app, ctx, actor, audience.as_str()).await.map(LoginOutcome::Session)
}

/// How long the second step of a sign-in may take.
const MFA_CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// What a correct password leads to: a session, or a second step.
#[derive(Debug)]
pub enum LoginOutcome {
    Session(NewSession),
    /// Send the challenge back with a TOTP code to `complete_second_factor`.
    SecondFactor {
        challenge: String,
    },
}

async fn finish_login(app: &App, ctx: &Ctx, actor: Actor, how: &str) -> ServiceResult<NewSession> {
    let session = open_session(app, &ctx.store, actor).await?;
    let login_ctx = Ctx { actor: session.actor.clone(), ..ctx.clone() };
    audit::record_alone(app, &login_ctx, "auth.login", &session.actor.principal(), json!({ "method": how })).await?;
    Ok(session)
}

/// The second sign-in step: the challenge from `login` and a TOTP code. A
/// challenge works once, right or wrong, so codes cannot be guessed
/// against it; wrong codes count towards the account's lock-out.
pub async fn complete_second_factor(app: &App, ctx: &Ctx, challenge: &str, code: &str) -> ServiceResult<NewSession> {
    let store = &ctx.store;
    let mut tx = app.db.begin().await?;
    let owner = crate::db::mail::use_token(&mut tx, &store.id, &token_hash(challenge), "mfa", now_ms()).await?;
    tx.commit().await?;
    let Some(staff_id) = owner else { return Err(ServiceError::InvalidCredentials) };
    let row = staff::by_id(app.db.pool(), &store.id, &staff_id).await?.ok_or(ServiceError::InvalidCredentials)?;
    rate_limit::check_failures(app, &store.id, &row.email_index).await?;
    if !super::mfa::check_code(app, &store.id, &staff_id, code, false).await? {
        rate_limit::record_failure(app, &store.id, &row.email_index).await;
        audit::record_alone(app, ctx, "auth.mfa_failed", &staff_id, json!({})).await?;
        return Err(ServiceError::InvalidCredentials);
    }
    let actor = staff_actor(app, store, row.id, row.role).await?.ok_or(ServiceError::InvalidCredentials)?;
    finish_login(app, ctx, actor, "password+totp").await
}

/// True when a stored hash was made with other parameters than today's.
fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    let current = argon2();
    let params = current.params();
    parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed)
            .map(|p| p.m_cost() != params.m_cost() || p.t_cost() != params.t_cost() || p.p_cost() != params.p_cost())
            .unwrap_or(true)
}

async fn upgrade_hash(app: &App, store_id: &str, actor: &Actor, password: &str, old: &str) -> ServiceResult<()> {
    let new_hash = hash_password(password).await?;
    let (table, id) = match actor {
        Actor::Staff { id, .. } => ("staff_users", id),
        Actor::Customer { id } => ("customers", id),
        _ => return Ok(()),
    };
    let mut tx = app.db.begin().await?;
    crate::db::sessions::set_password_hash(&mut tx, table, store_id, id, old, &new_hash).await?;
    tx.commit().await?;
    Ok(())
}

/// A staff actor with the permissions of their role (none for a role that
/// no longer exists).
/// An owner who must but does not yet use a second factor holds no
/// permissions until they set one up.
async fn staff_actor(app: &App, store: &Store, id: String, role: String) -> ServiceResult<Option<Actor>> {
    let mut permissions = super::staff::role_permissions(app, &store.id, &role).await?.unwrap_or_default();
    // Read from the database, not the store resolved for the request: that
    // is cached for a few seconds, and a security setting applies at once.
    let mfa_required = role == "owner"
        && crate::db::stores::by_id(app.db.pool(), &store.id).await?.is_some_and(|s| s.require_owner_mfa);
    if mfa_required && !super::mfa::is_enabled(app, &store.id, &id).await? {
        permissions.clear();
    }
    Ok(Some(Actor::Staff { id, role, permissions }))
}

async fn open_session(app: &App, store: &Store, actor: Actor) -> ServiceResult<NewSession> {
    let (kind, id) = match &actor {
        Actor::Staff { id, .. } => ("staff", id.clone()),
        Actor::Customer { id } => ("customer", id.clone()),
        Actor::Anonymous | Actor::Token { .. } => return Err(ServiceError::Unauthenticated),
    };
    let now = now_ms();
    let token = random_token();
    let csrf_token = random_token();
    let expires_at = now + SESSION_TTL_MS;
    let mut tx = app.db.begin().await?;
    sessions::insert(
        &mut tx,
        &token_hash(&token),
        &sessions::SessionRow {
            store_id: store.id.clone(),
            principal_kind: kind.into(),
            principal_id: id,
            csrf_token: csrf_token.clone(),
            last_seen_at: now,
            expires_at,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession { token, csrf_token, expires_at, actor })
}

/// The principal behind a bearer value in this store only (a session or
/// API token from another store is simply unknown here), with the
/// session's CSRF token. Sessions end after `SESSION_IDLE_MS` unused and
/// `SESSION_TTL_MS` in all.
pub async fn authenticate(app: &App, store: &Store, bearer: &str) -> ServiceResult<Option<(Actor, String)>> {
    if super::tokens::is_token(bearer) {
        return Ok(super::tokens::authenticate(app, &store.id, bearer).await?.map(|a| (a, String::new())));
    }
    let now = now_ms();
    let hash = token_hash(bearer);
    let Some(s) = sessions::find(app.db.pool(), &store.id, &hash, now).await? else {
        return Ok(None);
    };
    if s.last_seen_at + SESSION_IDLE_MS < now {
        return Ok(None);
    }
    let actor = match s.principal_kind.as_str() {
        "staff" => match staff::by_id(app.db.pool(), &store.id, &s.principal_id).await? {
            Some(r) => staff_actor(app, store, r.id, r.role).await?,
            None => None,
        },
        "customer" => {
            customers::by_id(app.db.pool(), &store.id, &s.principal_id).await?.map(|r| Actor::Customer { id: r.id })
        }
        _ => None,
    };
    // A write at most once a minute per session, not one per request.
    if actor.is_some() && s.last_seen_at < now - sessions::TOUCH_EVERY_MS {
        let mut tx = app.db.begin().await?;
        sessions::touch(&mut tx, &store.id, &hash, now).await?;
        tx.commit().await?;
    }
    Ok(actor.map(|a| (a, s.csrf_token)))
}

pub async fn logout(app: &App, store: &Store, token: &str) -> ServiceResult<()> {
    let mut tx = app.db.begin().await?;
    sessions::delete(&mut tx, &store.id, &token_hash(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the caller, on every device.
pub async fn logout_everywhere(app: &App, ctx: &Ctx) -> ServiceResult<u64> {
    let kind = match &ctx.actor {
        Actor::Staff { .. } => "staff",
        Actor::Customer { .. } => "customer",
        _ => return Err(ServiceError::Unauthenticated),
    };
    let mut tx = app.db.begin().await?;
    let n = sessions::delete_for_principal(&mut tx, &ctx.store.id, kind, &ctx.actor.principal()).await?;
    audit::record(app, &mut tx, ctx, "auth.logout_everywhere", &ctx.actor.principal(), json!({ "sessions_ended": n }))
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// Rejects passwords that are too short, too long, made of one repeated
/// character or a plain run (`1234567890`, `abcdefghij`), or among the
/// passwords of 10+ characters most often found in breach corpora.
/// (NIST SP 800-63B: length and a block list, no composition rules.)
pub fn check_password_strength(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err("password must be at least 10 characters");
    }
    if password.len() > 1024 {
        return Err("password must be at most 1024 bytes");
    }
    let lower = password.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let one_char = chars.iter().all(|c| *c == chars[0]);
    let run = chars.windows(2).all(|w| w[1] as i64 - w[0] as i64 == 1)
        || chars.windows(2).all(|w| w[0] as i64 - w[1] as i64 == 1);
    if one_char || run || BREACHED.binary_search(&lower.as_str()).is_ok() {
        return Err("password is too common; choose a longer or less predictable one");
    }
    Ok(())
}

/// Common breached passwords of 10 or more characters, sorted.
const BREACHED: &[&str] = &[
    "0123456789",
    "0987654321",
    "1111111111",
    "1122334455",
    "1123581321",
    "123123123123",
    "1234512345",
    "1234567890",
    "1234567890q",
    "12345678910",
    "123456789a",
    "123456789q",
    "123qweasdzxc",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "1qazxsw23edc",
    "5555555555",
    "987654321a",
    "aaaaaaaaaa",
    "abc1234567",
    "abcd123456",
    "abcdefghij",
    "administrator",
    "asdfghjkl1",
    "asdfghjkl;",
    "changeme123",
    "chocolate1",
    "football123",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "michael123",
    "monkey1234",
    "passw0rd12",
    "password!1",
    "password01",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password2024",
    "password2025",
    "password2026",
    "princess123",
    "q1w2e3r4t5",
    "q1w2e3r4t5y6",
    "qazwsxedc123",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "qwertyuiop",
    "qwertyuiop1",
    "qwertyuiop123",
    "starwars123",
    "sunshine123",
    "superman123",
    "welcome123",
    "zaq12wsxcde",
    "zxcvbnm123",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_list_is_sorted_for_binary_search() {
        assert!(BREACHED.windows(2).all(|w| w[0] < w[1]), "keep BREACHED sorted");
    }

    #[test]
    fn weak_passwords_are_refused() {
        for pw in ["short", "aaaaaaaaaaaa", "abcdefghijk", "9876543210", "QwertyUiop", "Password123"] {
            assert!(check_password_strength(pw).is_err(), "{pw}");
        }
        assert!(check_password_strength("correct horse battery staple").is_ok());
    }

    #[test]
    fn rehash_is_needed_only_for_other_parameters() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = weak.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(needs_rehash(&old));
        let current = argon2().hash_password(b"pw", &salt).unwrap().to_string();
        assert!(!needs_rehash(&current));
    }
}
