//! Invoices and credit notes: issued from an order (once), and a credit
//! note with every refund of an invoiced order, in the refund's
//! transaction. Each is numbered without gaps per store, series and year,
//! kept sealed (it names the buyer) and never changed; it is read as JSON,
//! printable HTML in the order's language and the store's brand, or UBL 2.1.

use askama::Template;
use serde::Serialize;
use serde_json::json;

use super::actor::{Actor, Ctx, Permission};
use super::orders::{Order, get_in};
use super::{App, ServiceError, ServiceResult, audit, now_ms, outbox};
use crate::db::Tx;
use crate::db::invoices::{self as sql, InvoiceRow};
use crate::db::settings_rows::{self, Table};
use crate::domain::crypto::Slot;
use crate::domain::ids;
use crate::domain::invoices::{self as rules, DocLine, DocTax, InvoiceDoc, InvoiceKind, Party, SellerSettings};
use crate::domain::locale::Language;
use crate::domain::money::{Currency, Money};

pub const INVOICE: &str = "inv";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: String,
    pub order_id: String,
    pub credits_id: Option<String>,
    pub issued_at: i64,
    pub document: InvoiceDoc,
}

fn slot<'a>(store_id: &'a str, id: &'a str) -> Slot<'a> {
    Slot { table: "invoices", column: "document", store_id, row_id: id }
}

fn view(app: &App, store_id: &str, r: InvoiceRow) -> ServiceResult<Invoice> {
    let json = app.open(slot(store_id, &r.id), &r.document_enc)?;
    let document = serde_json::from_str(&json).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Invoice { id: r.id, order_id: r.order_id, credits_id: r.credits_id, issued_at: r.issued_at, document })
}

fn today() -> (String, i32) {
    use chrono::Datelike;
    let now = chrono::Utc::now();
    (now.format("%Y-%m-%d").to_string(), now.year())
}

/// The store's seller settings (defaults when it set none).
pub async fn settings_of(app: &App, store_id: &str) -> ServiceResult<SellerSettings> {
    Ok(match settings_rows::get(app.db.pool(), Table::Invoice, store_id).await? {
        Some(s) => serde_json::from_str(&s).map_err(|e| ServiceError::Internal(format!("invoice settings: {e}")))?,
        None => SellerSettings::default(),
    })
}

pub async fn settings(app: &App, ctx: &Ctx) -> ServiceResult<SellerSettings> {
    ctx.actor.require(Permission::LedgerRead)?;
    settings_of(app, &ctx.store.id).await
}

/// Sets how the store appears as the seller on invoices issued from now
/// on (issued ones never change). Needs `settings.manage`.
pub async fn put_settings(app: &App, ctx: &Ctx, mut input: SellerSettings) -> ServiceResult<SellerSettings> {
    ctx.actor.require(Permission::SettingsManage)?;
    input.country = input.country.trim().to_uppercase();
    input.vat_id = input.vat_id.trim().to_string();
    input.validate()?;
    input.iban = input.iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    input.address_lines.retain(|l| !l.trim().is_empty());
    let text = serde_json::to_string(&input).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut tx = app.db.begin().await?;
    settings_rows::put(&mut tx, Table::Invoice, &ctx.store.id, &text, now_ms()).await?;
    audit::record(app, &mut tx, ctx, "invoices.settings_changed", &ctx.store.id, json!({})).await?;
    tx.commit().await?;
    Ok(input)
}

/// The seller as the store presents itself.
fn seller(ctx: &Ctx, s: &SellerSettings, origin_country: &str) -> Party {
    let name = if s.legal_name.trim().is_empty() { ctx.store.brand.name.clone() } else { s.legal_name.clone() };
    Party {
        name: name.clone(),
        company: name,
        vat_id: s.vat_id.trim().to_string(),
        address_lines: s.address_lines.clone(),
        country: if s.country.is_empty() { origin_country.to_string() } else { s.country.clone() },
        tax_number: s.tax_number.trim().to_string(),
    }
}

fn buyer(order: &Order) -> Party {
    let a = order.contact.shipping_address.as_ref();
    Party {
        name: a.map(|a| a.name.clone()).unwrap_or_else(|| order.contact.email.clone()),
        company: order.contact.company.clone().unwrap_or_default(),
        vat_id: order.contact.vat_id.clone().unwrap_or_default(),
        address_lines: a
            .map(|a| vec![a.line1.clone(), format!("{} {}", a.postal_code, a.city).trim().to_string()])
            .unwrap_or_default(),
        country: a.map(|a| a.country.clone()).unwrap_or_default(),
        tax_number: String::new(),
    }
}

/// The invoice of an order as placed: a line per order line (after its
/// discount), shipping, the tax per rate, and totals equal to the order's.
fn invoice_doc(ctx: &Ctx, order: &Order, settings: &SellerSettings, origin_country: &str) -> InvoiceDoc {
    let incl = order.prices_include_tax;
    let mut lines: Vec<DocLine> = order
        .lines
        .iter()
        .map(|l| {
            let after = l.line_total.amount - l.discount.amount;
            let (net, gross) = if incl { (after - l.tax.amount, after) } else { (after, after + l.tax.amount) };
            DocLine {
                description: l.name.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                net,
                tax: l.tax.amount,
                gross,
                tax_rate: l.tax_rate.clone(),
            }
        })
        .collect();
    let line_tax: i64 = lines.iter().map(|l| l.tax).sum();
    let shipping = order.totals.shipping.amount;
    if shipping > 0 {
        let tax = (order.totals.tax.amount - line_tax).max(0);
        let (net, gross) = if incl { (shipping - tax, shipping) } else { (shipping, shipping + tax) };
        let rate = order.pricing.taxes.first().map(|t| t.rate.percent_text()).unwrap_or_else(|| "0".into());
        let name = order.pricing.shipping.as_ref().map_or("Shipping".to_string(), |s| s.name.clone());
        lines.push(DocLine { description: name, sku: String::new(), quantity: 1, net, tax, gross, tax_rate: rate });
    }
    let taxes = order
        .pricing
        .taxes
        .iter()
        .map(|t| DocTax { label: t.label.clone(), rate: t.rate.percent_text(), net: t.net, tax: t.tax })
        .collect();
    let gross = order.totals.total.amount;
    let tax = order.totals.tax.amount;
    let seller = seller(ctx, settings, origin_country);
    let mut notes = rules::legal_notes(&seller.country, order.pricing.reverse_charge);
    if !settings.footer.trim().is_empty() {
        notes.push(settings.footer.trim().to_string());
    }
    let due_on = (chrono::Utc::now() + chrono::Duration::days(i64::from(settings.payment_terms_days)))
        .format("%Y-%m-%d")
        .to_string();
    InvoiceDoc {
        kind: InvoiceKind::Invoice,
        number: String::new(),
        issued_on: today().0,
        currency: order.currency.clone(),
        lang: order.lang.code().to_string(),
        order_number: order.number,
        credits: None,
        seller,
        buyer: buyer(order),
        lines,
        taxes,
        net: gross - tax,
        tax,
        gross,
        reverse_charge: order.pricing.reverse_charge,
        due_on: Some(due_on),
        payee_iban: settings.iban.clone(),
        payee_bic: settings.bic.trim().to_string(),
        notes,
    }
}

/// The country the store sells from, as its tax settings say.
async fn origin_country(app: &App, ctx: &Ctx) -> ServiceResult<String> {
    let row = crate::db::checkout_rules::tax_settings(app.db.pool(), &ctx.store.id).await?;
    Ok(super::tax_rules::settings_of(row).origin_country)
}

/// Writes a document with the next number of its series.
async fn write(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    mut doc: InvoiceDoc,
    order_id: &str,
    credits_id: Option<&str>,
) -> ServiceResult<Invoice> {
    let store_id = &ctx.store.id;
    let series = format!("{}-{}", doc.kind.prefix(), today().1);
    let number = sql::next_number(tx, store_id, &series).await?;
    doc.number = rules::display_number(&series, number);
    let id = ids::new_id(INVOICE);
    let json = serde_json::to_string(&doc).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let row = InvoiceRow {
        id: id.clone(),
        kind: doc.kind.as_str().into(),
        series,
        number,
        display: doc.number.clone(),
        order_id: order_id.to_string(),
        credits_id: credits_id.map(str::to_string),
        currency: doc.currency.clone(),
        net: doc.net,
        tax: doc.tax,
        gross: doc.gross,
        issued_at: now_ms(),
        document_enc: app.seal(slot(store_id, &id), &json),
    };
    sql::insert(tx, store_id, &row).await?;
    let event = if doc.kind == InvoiceKind::Invoice { "invoice.issued" } else { "credit_note.issued" };
    outbox::emit(
        tx,
        store_id,
        event,
        json!({ "invoice_id": id, "number": doc.number, "order_id": order_id, "gross": doc.gross }),
    )
    .await?;
    Ok(Invoice {
        id,
        order_id: order_id.to_string(),
        credits_id: row.credits_id,
        issued_at: row.issued_at,
        document: doc,
    })
}

/// Staff issue an order's invoice (201); asked again, the same invoice
/// (200): an order has one invoice.
pub async fn issue(app: &App, ctx: &Ctx, order_id: &str) -> ServiceResult<(u16, Invoice)> {
    ctx.actor.require(Permission::OrdersManage)?;
    let store_id = &ctx.store.id;
    let origin = origin_country(app, ctx).await?;
    let settings = settings_of(app, store_id).await?;
    let mut tx = app.db.begin().await?;
    crate::db::orders::lock_order(&mut tx, store_id, order_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(existing) =
        sql::of_order_in(&mut tx, store_id, order_id).await?.into_iter().find(|i| i.kind == "invoice")
    {
        return Ok((200, view(app, store_id, existing)?));
    }
    let order = get_in(app, &mut tx, ctx, order_id).await?;
    if order.status == crate::domain::orders::OrderStatus::Cancelled {
        return Err(ServiceError::Conflict {
            code: "order_cancelled",
            message: "a cancelled order is not invoiced".into(),
        });
    }
    let doc = invoice_doc(ctx, &order, &settings, &origin);
    let invoice = write(app, &mut tx, ctx, doc, order_id, None).await?;
    audit::record(app, &mut tx, ctx, "invoices.issued", &invoice.id, json!({ "number": invoice.document.number }))
        .await?;
    tx.commit().await?;
    app.wake_outbox();
    Ok((201, invoice))
}

/// With a refund of `gross` on an invoiced order: a credit note for it, in
/// the refund's transaction, its tax split over the invoice's rates.
/// Nothing for an order that was never invoiced.
pub(super) async fn credit_for_refund(
    app: &App,
    tx: &mut Tx,
    ctx: &Ctx,
    order_id: &str,
    gross: i64,
) -> ServiceResult<Option<Invoice>> {
    let store_id = &ctx.store.id;
    let Some(original) = sql::of_order_in(tx, store_id, order_id).await?.into_iter().find(|i| i.kind == "invoice")
    else {
        return Ok(None);
    };
    let original = view(app, store_id, original)?;
    let o = &original.document;
    let taxes = rules::credit_split(&o.taxes, gross);
    let lines = taxes
        .iter()
        .map(|t| DocLine {
            description: format!("Refund on {} ({})", o.number, if t.label.is_empty() { "no tax" } else { &t.label }),
            sku: String::new(),
            quantity: 1,
            net: t.net,
            tax: t.tax,
            gross: t.net + t.tax,
            tax_rate: t.rate.clone(),
        })
        .collect();
    let tax: i64 = taxes.iter().map(|t| t.tax).sum();
    let doc = InvoiceDoc {
        kind: InvoiceKind::CreditNote,
        number: String::new(),
        issued_on: today().0,
        currency: o.currency.clone(),
        lang: o.lang.clone(),
        order_number: o.order_number,
        credits: Some(o.number.clone()),
        seller: o.seller.clone(),
        buyer: o.buyer.clone(),
        lines,
        taxes,
        net: gross - tax,
        tax,
        gross,
        reverse_charge: o.reverse_charge,
        due_on: None,
        payee_iban: String::new(),
        payee_bic: String::new(),
        notes: o.notes.clone(),
    };
    Ok(Some(write(app, tx, ctx, doc, order_id, Some(&original.id)).await?))
}

/// Staff (orders.read) and the order's buyer (customer, or a guest with the
/// order's token) read its invoices; anyone else is told it does not exist.
async fn readable(app: &App, ctx: &Ctx, row: &InvoiceRow, token: Option<&str>) -> ServiceResult<()> {
    match ctx.actor {
        Actor::Staff { .. } | Actor::Token { .. } => ctx.actor.require(Permission::OrdersRead),
        _ => super::orders::get(app, ctx, &row.order_id, token).await.map(|_| ()),
    }
}

pub async fn get(app: &App, ctx: &Ctx, id: &str, token: Option<&str>) -> ServiceResult<Invoice> {
    let row = sql::get(app.db.pool(), &ctx.store.id, id).await?.ok_or(ServiceError::NotFound)?;
    readable(app, ctx, &row, token).await?;
    view(app, &ctx.store.id, row)
}

/// An order's invoice and credit notes, oldest first.
pub async fn of_order(app: &App, ctx: &Ctx, order_id: &str, token: Option<&str>) -> ServiceResult<Vec<Invoice>> {
    match ctx.actor {
        Actor::Staff { .. } | Actor::Token { .. } => ctx.actor.require(Permission::OrdersRead)?,
        _ => {
            super::orders::get(app, ctx, order_id, token).await?;
        }
    }
    sql::of_order(app.db.pool(), &ctx.store.id, order_id)
        .await?
        .into_iter()
        .map(|r| view(app, &ctx.store.id, r))
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoicePage {
    pub invoices: Vec<Invoice>,
    pub next: Option<String>,
}

/// The store's invoices and credit notes, newest first. Needs `ledger.read`.
pub async fn list(app: &App, ctx: &Ctx, before: Option<&str>, limit: Option<i64>) -> ServiceResult<InvoicePage> {
    ctx.actor.require(Permission::LedgerRead)?;
    let limit = limit.unwrap_or(50).clamp(1, 200);
    let rows = sql::list(app.db.pool(), &ctx.store.id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let invoices: Vec<Invoice> =
        rows.into_iter().take(limit as usize).map(|r| view(app, &ctx.store.id, r)).collect::<Result<_, _>>()?;
    let next = if more { invoices.last().map(|i| i.id.clone()) } else { None };
    Ok(InvoicePage { invoices, next })
}

/// The document as UBL 2.1 XML.
pub async fn ubl(app: &App, ctx: &Ctx, id: &str, token: Option<&str>) -> ServiceResult<String> {
    Ok(rules::ubl(&get(app, ctx, id, token).await?.document))
}

/// The document as a PDF in the order's language, under the store's name.
pub async fn pdf(app: &App, ctx: &Ctx, id: &str, token: Option<&str>) -> ServiceResult<Vec<u8>> {
    let invoice = get(app, ctx, id, token).await?;
    let lang = Language::parse(&invoice.document.lang).unwrap_or(ctx.store.brand.default_language);
    let t = |key| crate::i18n::t(lang, key);
    let labels = crate::domain::invoice_pdf::Labels {
        invoice: t("invoice.title"),
        credit_note: t("invoice.credit_note"),
        date: t("invoice.date"),
        order: t("invoice.order"),
        due: t("invoice.due"),
        credits: t("invoice.credits"),
        seller: t("invoice.seller"),
        buyer: t("invoice.buyer"),
        vat_id: t("invoice.vat_id"),
        tax_number: t("invoice.tax_number"),
        description: t("invoice.description"),
        quantity: t("invoice.quantity"),
        rate: t("invoice.rate"),
        net: t("invoice.net"),
        tax: t("invoice.tax"),
        gross: t("invoice.gross"),
        total: t("invoice.total"),
        reverse_charge: t("invoice.reverse_charge"),
        pay_to: t("invoice.pay_to"),
        page: t("invoice.page"),
    };
    let doc = &invoice.document;
    let currency = Currency::parse(&doc.currency).unwrap_or(Currency::EUR);
    let money = |minor: i64| crate::i18n::format_money(lang, Money::new(minor, currency));
    Ok(crate::domain::invoice_pdf::render(doc, &labels, &ctx.store.brand.name, &money))
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePageHtml<'a> {
    /// For the link to the PDF beside the page.
    id: &'a str,
    doc: &'a InvoiceDoc,
    lang: Language,
    brand_name: &'a str,
}

impl InvoicePageHtml<'_> {
    fn t(&self, key: &'static str) -> &'static str {
        crate::i18n::t(self.lang, key)
    }

    fn money(&self, minor: &i64) -> String {
        let c = Currency::parse(&self.doc.currency).unwrap_or(Currency::EUR);
        crate::i18n::format_money(self.lang, Money::new(*minor, c))
    }
}

/// The document as a printable page in the order's language, under the
/// store's name (styles from `/static/invoice.css`: the CSP allows no inline style).
pub async fn html(app: &App, ctx: &Ctx, id: &str, token: Option<&str>) -> ServiceResult<String> {
    let invoice = get(app, ctx, id, token).await?;
    let lang = Language::parse(&invoice.document.lang).unwrap_or(ctx.store.brand.default_language);
    let page = InvoicePageHtml { id: &invoice.id, doc: &invoice.document, lang, brand_name: &ctx.store.brand.name };
    page.render().map_err(|e| ServiceError::Internal(e.to_string()))
}
