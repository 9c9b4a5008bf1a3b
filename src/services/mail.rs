//! Queuing e-mail inside the business transaction. The message is sealed
//! (recipient and text are personal data) and sent after commit by the
//! mail worker, so an e-mail is sent if and only if its change committed.

use super::{App, ServiceResult, now_ms};
use crate::db::{Tx, mail};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::stores::Store;
use crate::providers::mail::Message;

pub fn slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "mail_outbox", column: "message", store_id, row_id: id }
}

pub async fn queue(app: &App, tx: &mut Tx, store: &Store, to: &str, subject: &str, text: &str) -> ServiceResult<()> {
    let from = app
        .config
        .mail
        .from
        .clone()
        .unwrap_or_else(|| format!("{} <no-reply@{}.oxcart.invalid>", store.brand.name, store.slug));
    let message = Message { from, to: to.to_string(), subject: subject.to_string(), text: text.to_string() };
    let id = ids::new_id("msg");
    let sealed = app.seal(slot(&store.id, &id), &serde_json::to_string(&message).unwrap_or_default());
    mail::queue(tx, &store.id, &id, &sealed, now_ms()).await?;
    Ok(())
}

/// The store's own address for links in e-mail.
pub fn store_url(app: &App, store: &Store) -> String {
    let base = app.config.public_url();
    if store.is_default { base } else { format!("{base}/s/{}", store.slug) }
}
