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
    /// A national tax number (the seller's, where the law asks for it
    /// beside or instead of the VAT id, e.g. the German Steuernummer).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tax_number: String,
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
    /// YYYY-MM-DD: when an invoice is to be paid (none on credit notes).
    #[serde(default)]
    pub due_on: Option<String>,
    /// Where to pay by transfer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payee_iban: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payee_bic: String,
    /// Texts the law of the seller's country asks for, and the store's own footer.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// How a store presents itself as the seller on its invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SellerSettings {
    /// The registered name; the brand name when empty.
    #[serde(default)]
    pub legal_name: String,
    /// Street, postal code and city, … as printed.
    #[serde(default)]
    pub address_lines: Vec<String>,
    /// ISO 3166-1 alpha-2; the tax settings' origin country when empty.
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub vat_id: String,
    #[serde(default)]
    pub tax_number: String,
    /// Days to pay an invoice (0: due on receipt).
    #[serde(default)]
    pub payment_terms_days: u32,
    #[serde(default)]
    pub iban: String,
    #[serde(default)]
    pub bic: String,
    /// Printed at the foot of every invoice (registration court, directors…).
    #[serde(default)]
    pub footer: String,
}

impl SellerSettings {
    pub fn validate(&self) -> Result<(), super::validation::FieldErrors> {
        let mut errs = super::validation::FieldErrors::default();
        errs.text("legal_name", &self.legal_name, 0, 200);
        if self.address_lines.len() > 5 || self.address_lines.iter().any(|l| l.chars().count() > 200) {
            errs.add("address_lines", "too_long", "at most 5 lines of 200 characters");
        }
        let c = self.country.trim();
        if !c.is_empty() && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            errs.add("country", "invalid_country", "a two-letter ISO country code in capitals");
        }
        let vat = self.vat_id.trim();
        if !vat.is_empty()
            && (!(4..=16).contains(&vat.len())
                || !vat.bytes().all(|b| b.is_ascii_alphanumeric())
                || !vat.bytes().take(2).all(|b| b.is_ascii_uppercase()))
        {
            errs.add("vat_id", "invalid_vat_id", "a VAT id starts with its country code (DE123456789)");
        }
        errs.text("tax_number", &self.tax_number, 0, 40);
        if self.payment_terms_days > 365 {
            errs.add("payment_terms_days", "out_of_range", "at most 365 days");
        }
        let iban: String = self.iban.chars().filter(|c| !c.is_whitespace()).collect();
        if !iban.is_empty() && !iban_valid(&iban) {
            errs.add("iban", "invalid_iban", "not a valid IBAN");
        }
        let bic = self.bic.trim();
        if !bic.is_empty() && (![8, 11].contains(&bic.len()) || !bic.bytes().all(|b| b.is_ascii_alphanumeric())) {
            errs.add("bic", "invalid_bic", "a BIC has 8 or 11 letters and digits");
        }
        errs.text("footer", &self.footer, 0, 500);
        errs.finish(())
    }
}

/// An IBAN's check digits (ISO 13616: the number read as digits, mod 97 = 1).
pub fn iban_valid(iban: &str) -> bool {
    let iban = iban.to_ascii_uppercase();
    if !(15..=34).contains(&iban.len()) || !iban.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let moved = format!("{}{}", &iban[4..], &iban[..4]);
    let mut rest: u32 = 0;
    for c in moved.chars() {
        let v = c.to_digit(36).unwrap_or(0);
        rest = if v > 9 { (rest * 100 + v) % 97 } else { (rest * 10 + v) % 97 };
    }
    rest == 1
}

/// What the law of the seller's country asks an invoice to say, in that
/// country's language, beyond the figures: the reverse charge wording, and
/// in France the late-payment penalties (Code de commerce L441-10).
pub fn legal_notes(seller_country: &str, reverse_charge: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if reverse_charge {
        let local = match seller_country {
            "DE" | "AT" => Some("Steuerschuldnerschaft des Leistungsempfängers."),
            "FR" => Some("Autoliquidation."),
            "ES" => Some("Inversión del sujeto pasivo."),
            "PT" => Some("IVA – autoliquidação."),
            "IT" => Some("Inversione contabile."),
            "NL" | "BE" => Some("BTW verlegd."),
            _ => None,
        };
        notes.extend(local.map(str::to_string));
        notes.push(
            "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC).".into(),
        );
    }
    if seller_country == "FR" {
        notes.push(
            "Pénalités de retard : trois fois le taux d'intérêt légal. Indemnité forfaitaire pour frais de \
             recouvrement : 40 €. Pas d'escompte pour paiement anticipé."
                .into(),
        );
    }
    notes
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
         <cbc:ID>{id}</cbc:ID><cbc:IssueDate>{date}</cbc:IssueDate>{due}<cbc:{type_tag}>{type_code}</cbc:{type_tag}>{notes}\
         <cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode><cbc:BuyerReference>{order}</cbc:BuyerReference>",
        id = esc(&doc.number),
        date = esc(&doc.issued_on),
        due = match (&doc.due_on, doc.kind) {
            (Some(d), InvoiceKind::Invoice) => format!("<cbc:DueDate>{}</cbc:DueDate>", esc(d)),
            _ => String::new(),
        },
        notes = doc.notes.iter().map(|n| format!("<cbc:Note>{}</cbc:Note>", esc(n))).collect::<String>(),
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
    if doc.kind == InvoiceKind::Invoice && !doc.payee_iban.is_empty() {
        // 58: SEPA credit transfer, to the seller's account.
        let bic = if doc.payee_bic.is_empty() {
            String::new()
        } else {
            format!(
                "<cac:FinancialInstitutionBranch><cbc:ID>{}</cbc:ID></cac:FinancialInstitutionBranch>",
                esc(&doc.payee_bic)
            )
        };
        x.push_str(&format!(
            "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cbc:PaymentID>{no}</cbc:PaymentID>\
             <cac:PayeeFinancialAccount><cbc:ID>{iban}</cbc:ID>{bic}</cac:PayeeFinancialAccount></cac:PaymentMeans>",
            no = esc(&doc.number),
            iban = esc(&doc.payee_iban),
        ));
    }
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
    fn ibans_are_checked_by_their_digits() {
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert!(!iban_valid("DE89"));
    }

    #[test]
    fn legal_notes_follow_the_sellers_country() {
        assert!(legal_notes("DE", false).is_empty());
        let de = legal_notes("DE", true);
        assert!(de[0].contains("Leistungsempfängers") && de[1].contains("Article 196"), "{de:?}");
        assert!(legal_notes("FR", false)[0].contains("40 €"));
        assert_eq!(legal_notes("US", true).len(), 1, "only the EU wording");
    }

    #[test]
    fn seller_settings_are_checked() {
        let bad = SellerSettings {
            country: "de".into(),
            vat_id: "123".into(),
            iban: "DE00 1234".into(),
            bic: "ABC".into(),
            payment_terms_days: 400,
            ..SellerSettings::default()
        };
        let errs = bad.validate().unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["country", "vat_id", "payment_terms_days", "iban", "bic"]);
        let good = SellerSettings {
            legal_name: "Outfitters GmbH".into(),
            country: "DE".into(),
            vat_id: "DE123456789".into(),
            iban: "DE89 3704 0044 0532 0130 00".into(),
            bic: "COBADEFFXXX".into(),
            payment_terms_days: 14,
            ..SellerSettings::default()
        };
        assert!(good.validate().is_ok());
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
