//! Invoices and credit notes with no I/O: the document as issued (an
//! immutable snapshot), its number, how a refund's amount is split over the
//! invoice's tax rates for a credit note, and the document as UBL 2.1 XML
//! (the EN 16931 core: parties, lines, tax per rate, totals).

use serde::{Deserialize, Serialize};

use super::money::{Currency, Money};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

impl InvoiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "invoice",
            InvoiceKind::CreditNote => "credit_note",
        }
    }

    /// The series prefix numbers are drawn from.
    pub fn prefix(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "INV",
            InvoiceKind::CreditNote => "CN",
        }
    }
}

/// The number people see: series and running number, e.g. `INV-2026-000042`.
pub fn display_number(series: &str, number: i64) -> String {
    format!("{series}-{number:06}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Party {
    pub name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub vat_id: String,
    #[serde(default)]
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocLine {
    pub description: String,
    pub sku: String,
    pub quantity: i64,
    /// Minor units, before tax.
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    /// Percent as written (`19`, `7.5`).
    pub tax_rate: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocTax {
    pub label: String,
    pub rate: String,
    pub net: i64,
    pub tax: i64,
}

/// An invoice or credit note as issued. Amounts of a credit note are
/// positive: the kind says they are credited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceDoc {
    pub kind: InvoiceKind,
    pub number: String,
    /// YYYY-MM-DD (UTC).
    pub issued_on: String,
    pub currency: String,
    /// Language code the document was issued in.
    pub lang: String,
    pub order_number: i64,
    /// For a credit note: the invoice it corrects.
    #[serde(default)]
    pub credits: Option<String>,
    pub seller: Party,
    pub buyer: Party,
    pub lines: Vec<DocLine>,
    pub taxes: Vec<DocTax>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    /// No VAT charged: the buyer accounts for it (EU reverse charge).
    pub reverse_charge: bool,
}

/// Splits a refunded gross amount over an invoice's tax rates in
/// proportion to their gross, largest remainder last so the parts add up
/// exactly; each part's tax is computed back from its rate (half-up).
pub fn credit_split(taxes: &[DocTax], refund_gross: i64) -> Vec<DocTax> {
    let gross: Vec<i64> = taxes.iter().map(|t| t.net + t.tax).collect();
    let total: i64 = gross.iter().sum();
    if total <= 0 || taxes.is_empty() {
        return vec![DocTax { label: String::new(), rate: "0".into(), net: refund_gross, tax: 0 }];
    }
    let mut parts: Vec<i64> =
        gross.iter().map(|g| (i128::from(*g) * i128::from(refund_gross) / i128::from(total)) as i64).collect();
    let rest = refund_gross - parts.iter().sum::<i64>();
    if let Some(biggest) = (0..parts.len()).max_by_key(|i| gross[*i]) {
        parts[biggest] += rest;
    }
    taxes
        .iter()
        .zip(parts)
        .map(|(t, part)| {
            let tax = tax_in_gross(part, &t.rate);
            DocTax { label: t.label.clone(), rate: t.rate.clone(), net: part - tax, tax }
        })
        .collect()
}

/// The tax contained in a gross amount at `rate` percent, rounded half up.
fn tax_in_gross(gross: i64, rate: &str) -> i64 {
    // Rates are decimals with at most 4 places (`19`, `8.875`): scale to 1/10,000 %.
    let (whole, frac) = rate.split_once('.').unwrap_or((rate, ""));
    let frac = format!("{frac:0<4}");
    let bp: i128 = whole.parse::<i128>().unwrap_or(0) * 10_000 + frac[..4].parse::<i128>().unwrap_or(0);
    if bp == 0 {
        return 0;
    }
    let denominator = 1_000_000 + bp;
    let numerator = i128::from(gross) * bp;
    ((numerator * 2 + denominator) / (denominator * 2)) as i64
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn amount(minor: i64, currency: &str) -> String {
    let c = Currency::parse(currency).unwrap_or(Currency::EUR);
    Money::new(minor, c).decimal()
}

fn party_xml(tag: &str, p: &Party) -> String {
    let name = if p.company.is_empty() { &p.name } else { &p.company };
    let street = p.address_lines.first().map(String::as_str).unwrap_or("");
    let city = p.address_lines.get(1).map(String::as_str).unwrap_or("");
    let vat = if p.vat_id.is_empty() {
        String::new()
    } else {
        format!(
            "<cac:PartyTaxScheme><cbc:CompanyID>{}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>",
            esc(&p.vat_id)
        )
    };
    format!(
        "<cac:{tag}><cac:Party><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>\
         <cac:PostalAddress><cbc:StreetName>{street}</cbc:StreetName><cbc:CityName>{city}</cbc:CityName>\
         <cac:Country><cbc:IdentificationCode>{country}</cbc:IdentificationCode></cac:Country></cac:PostalAddress>{vat}\
         <cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:{tag}>",
        name = esc(name),
        street = esc(street),
        city = esc(city),
        country = esc(&p.country),
    )
}

/// The tax category code: standard rate, zero rate, or reverse charge.
fn category(doc: &InvoiceDoc, rate: &str) -> &'static str {
    if doc.reverse_charge {
        "AE"
    } else if rate.trim_start_matches('0').trim_start_matches('.').trim_matches('0').is_empty() {
        "Z"
    } else {
        "S"
    }
}

/// The document as UBL 2.1 (`Invoice` or `CreditNote`) with the EN 16931
/// customization id.
pub fn ubl(doc: &InvoiceDoc) -> String {
    let cur = &doc.currency;
    let (root, ns, type_tag, type_code, qty_tag, line_tag) = match doc.kind {
        InvoiceKind::Invoice => (
            "Invoice",
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "InvoiceTypeCode",
            "380",
            "InvoicedQuantity",
            "InvoiceLine",
        ),
        InvoiceKind::CreditNote => (
            "CreditNote",
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "CreditNoteTypeCode",
            "381",
            "CreditedQuantity",
            "CreditNoteLine",
        ),
    };
    let mut x = String::new();
    x.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{ns}\" \
         xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
         xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\
         <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>\
         <cbc:ID>{id}</cbc:ID><cbc:IssueDate>{date}</cbc:IssueDate><cbc:{type_tag}>{type_code}</cbc:{type_tag}>\
         <cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode><cbc:BuyerReference>{order}</cbc:BuyerReference>",
        id = esc(&doc.number),
        date = esc(&doc.issued_on),
        cur = esc(cur),
        order = doc.order_number,
    ));
    if let Some(original) = &doc.credits {
        x.push_str(&format!(
            "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>",
            esc(original)
        ));
    }
    x.push_str(&party_xml("AccountingSupplierParty", &doc.seller));
    x.push_str(&party_xml("AccountingCustomerParty", &doc.buyer));
    x.push_str(&format!("<cac:TaxTotal><cbc:TaxAmount currencyID=\"{cur}\">{}</cbc:TaxAmount>", amount(doc.tax, cur)));
    for t in &doc.taxes {
        x.push_str(&format!(
            "<cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"{cur}\">{net}</cbc:TaxableAmount>\
             <cbc:TaxAmount currencyID=\"{cur}\">{tax}</cbc:TaxAmount><cac:TaxCategory><cbc:ID>{cat}</cbc:ID>\
             <cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>",
            net = amount(t.net, cur),
            tax = amount(t.tax, cur),
            cat = category(doc, &t.rate),
            rate = esc(&t.rate),
        ));
    }
    x.push_str("</cac:TaxTotal>");
    x.push_str(&format!(
        "<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID=\"{cur}\">{net}</cbc:LineExtensionAmount>\
         <cbc:TaxExclusiveAmount currencyID=\"{cur}\">{net}</cbc:TaxExclusiveAmount>\
         <cbc:TaxInclusiveAmount currencyID=\"{cur}\">{gross}</cbc:TaxInclusiveAmount>\
         <cbc:PayableAmount currencyID=\"{cur}\">{gross}</cbc:PayableAmount></cac:LegalMonetaryTotal>",
        net = amount(doc.net, cur),
        gross = amount(doc.gross, cur),
    ));
    for (i, l) in doc.lines.iter().enumerate() {
        let unit = if l.quantity > 0 { l.net / l.quantity } else { l.net };
        x.push_str(&format!(
            "<cac:{line_tag}><cbc:ID>{n}</cbc:ID><cbc:{qty_tag} unitCode=\"C62\">{q}</cbc:{qty_tag}>\
             <cbc:LineExtensionAmount currencyID=\"{cur}\">{net}</cbc:LineExtensionAmount>\
             <cac:Item><cbc:Name>{name}</cbc:Name><cac:SellersItemIdentification><cbc:ID>{sku}</cbc:ID></cac:SellersItemIdentification>\
             <cac:ClassifiedTaxCategory><cbc:ID>{cat}</cbc:ID><cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>\
             <cac:Price><cbc:PriceAmount currencyID=\"{cur}\">{unit}</cbc:PriceAmount></cac:Price></cac:{line_tag}>",
            n = i + 1,
            q = l.quantity,
            net = amount(l.net, cur),
            name = esc(&l.description),
            sku = esc(&l.sku),
            cat = category(doc, &l.tax_rate),
            rate = esc(&l.tax_rate),
            unit = amount(unit, cur),
        ));
    }
    x.push_str(&format!("</{root}>\n"));
    x
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tax(rate: &str, net: i64, tax: i64) -> DocTax {
        DocTax { label: format!("VAT {rate}"), rate: rate.into(), net, tax }
    }

    #[test]
    fn a_refund_is_split_over_the_rates_it_was_charged_at() {
        // 119.00 at 19 % and 107.00 at 7 %; refund 113.00 (half of it).
        let parts = credit_split(&[tax("19", 10000, 1900), tax("7", 10000, 700)], 11300);
        assert_eq!(parts.iter().map(|p| p.net + p.tax).sum::<i64>(), 11300, "the parts add up exactly");
        assert_eq!((parts[0].net, parts[0].tax), (5000, 950));
        assert_eq!((parts[1].net, parts[1].tax), (5000, 350));
        assert_eq!(tax_in_gross(1000, "19"), 160, "1000 × 19/119 = 159.66 → 160");
        assert_eq!(tax_in_gross(2178, "8.875"), 178);
        assert_eq!(tax_in_gross(500, "0"), 0);
    }

    #[test]
    fn numbers_read_as_series_and_six_digits() {
        assert_eq!(display_number("INV-2026", 42), "INV-2026-000042");
    }

    proptest! {
        #[test]
        fn credit_parts_always_add_up(a in 1i64..1_000_000, b in 0i64..1_000_000, refund in 1i64..2_000_000) {
            let parts = credit_split(&[tax("19", a, a * 19 / 100), tax("7", b, b * 7 / 100)], refund);
            prop_assert_eq!(parts.iter().map(|p| p.net + p.tax).sum::<i64>(), refund);
            prop_assert!(parts.iter().all(|p| p.tax >= 0 && p.net >= 0));
        }
    }
}
