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

use super::actor::{Actor, Role};
use super::{App, ServiceError, ServiceResult, now_ms};
use crate::db::{customers, sessions, staff};
use crate::domain::stores::Store;

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_PASSWORD_LEN: usize = 10;
const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

pub async fn hash_password(password: &str) -> ServiceResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| ServiceError::Internal(e.to_string()))?;
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
    argon2()
        .hash_password(b"not-a-real-password", &salt)
        .expect("hashing works")
        .to_string()
});

async fn verify_password(password: &str, hash: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = PasswordHash::new(&hash)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && exists
    })
    .await
    .unwrap_or(false)
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

/// Checks the password and opens a session. The error never says whether
/// the account exists.
pub async fn login(
    app: &App,
    store: &Store,
    audience: Audience,
    email: &str,
    password: &str,
) -> ServiceResult<NewSession> {
    let email_index = app.email_index(&store.id, email);
    let (principal, hash) = match audience {
        Audience::Staff => {
            let row = staff::by_email_index(app.db.pool(), &store.id, &email_index).await?;
            let hash = row.as_ref().map(|r| r.password_hash.clone());
            let actor =
                row.and_then(|r| Role::parse(&r.role).map(|role| Actor::Staff { id: r.id, role }));
            (actor, hash)
        }
        Audience::Customer => {
            let row = customers::by_email_index(app.db.pool(), &store.id, &email_index).await?;
            let hash = row.as_ref().map(|r| r.password_hash.clone());
            (row.map(|r| Actor::Customer { id: r.id }), hash)
        }
    };
    let verified = verify_password(password, hash).await;
    let actor = match principal {
        Some(actor) if verified => actor,
        _ => return Err(ServiceError::InvalidCredentials),
    };
    open_session(app, store, actor).await
}

async fn open_session(app: &App, store: &Store, actor: Actor) -> ServiceResult<NewSession> {
    let (kind, id) = match &actor {
        Actor::Staff { id, .. } => ("staff", id.clone()),
        Actor::Customer { id } => ("customer", id.clone()),
        Actor::Anonymous => return Err(ServiceError::Unauthenticated),
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
    Ok(NewSession {
        token,
        csrf_token,
        expires_at,
        actor,
    })
}

/// The signed-in principal behind a token, in this store only: a token from
/// another store is simply unknown here.
pub async fn authenticate(
    app: &App,
    store: &Store,
    token: &str,
) -> ServiceResult<Option<(Actor, String)>> {
    let Some(s) = sessions::find(app.db.pool(), &store.id, &token_hash(token), now_ms()).await?
    else {
        return Ok(None);
    };
    let actor = match s.principal_kind.as_str() {
        "staff" => staff::by_id(app.db.pool(), &store.id, &s.principal_id)
            .await?
            .and_then(|r| Role::parse(&r.role).map(|role| Actor::Staff { id: r.id, role })),
        "customer" => customers::by_id(app.db.pool(), &store.id, &s.principal_id)
            .await?
            .map(|r| Actor::Customer { id: r.id }),
        _ => None,
    };
    Ok(actor.map(|a| (a, s.csrf_token)))
}

pub async fn logout(app: &App, store: &Store, token: &str) -> ServiceResult<()> {
    let mut tx = app.db.begin().await?;
    sessions::delete(&mut tx, &store.id, &token_hash(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// Rejects passwords that are too short or among the most common ones.
pub fn check_password_strength(password: &str) -> Result<(), &'static str> {
    const COMMON: [&str; 12] = [
        "password",
        "password1",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "iloveyou12",
        "password123",
        "0123456789",
        "abcdefghij",
        "letmein123",
        "welcome123",
        "passw0rd12",
    ];
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err("password must be at least 10 characters");
    }
    if password.len() > 1024 {
        return Err("password must be at most 1024 bytes");
    }
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err("password is too common");
    }
    Ok(())
}
