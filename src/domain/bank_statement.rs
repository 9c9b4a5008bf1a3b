//! Bank statements as Oxcart reads them, with no I/O: ISO 20022 camt.053
//! (`BkToCstmrStmt`) XML and a simple CSV, both turned into the incoming
//! credits they list, and the transfer references found in a line's
//! remittance text. Debits (money leaving) are not matched and are skipped.

use super::money::{Currency, Money};

/// One incoming credit on a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// The bank's own id of the entry (deduplicates a re-imported statement).
    pub bank_ref: String,
    /// Booking date as the bank wrote it (YYYY-MM-DD).
    pub booked_on: String,
    pub amount: Money,
    /// Remittance information: what the payer wrote.
    pub remittance: String,
    pub payer: String,
}

/// Why a statement cannot be read: the first problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StatementError(pub String);

fn fail(message: impl Into<String>) -> StatementError {
    StatementError(message.into())
}

/// Reads a camt.053 statement's credit entries.
pub fn parse_camt053(xml: &str) -> Result<Vec<Credit>, StatementError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut saw_statement = false;
    let mut credits = Vec::new();
    let mut entry: Option<Entry> = None;
    // An element's text, which entity references split into pieces.
    let mut content = String::new();
    loop {
        let event = reader.read_event().map_err(|e| fail(format!("not well-formed XML: {e}")))?;
        match event {
            Event::Start(e) => {
                let local = e.local_name();
                let name: String = local.as_ref().to_string();
                if name == "BkToCstmrStmt" {
                    saw_statement = true;
                }
                if name == "Ntry" {
                    entry = Some(Entry::default());
                }
                if name == "Amt"
                    && path.last().is_some_and(|p| p == "Ntry")
                    && let Some(en) = entry.as_mut()
                {
                    let ccy = e.try_get_attribute("Ccy").ok().flatten().map(|a| a.value.to_string());
                    en.currency = ccy;
                }
                path.push(name);
                content.clear();
            }
            Event::End(_) => {
                text(&mut entry, &path, content.trim());
                content.clear();
                if path.pop().as_deref() == Some("Ntry")
                    && let Some(en) = entry.take()
                    && let Some(credit) = en.into_credit(credits.len() + 1)?
                {
                    credits.push(credit);
                }
            }
            Event::Text(t) => content.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match &*r {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                content.extend(resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(fail(format!("not well-formed XML: it ends inside <{open}>")));
    }
    if !saw_statement {
        return Err(fail("not a camt.053 statement (no BkToCstmrStmt element)"));
    }
    Ok(credits)
}

/// The parts of a `Ntry` element gathered while reading it.
#[derive(Debug, Default)]
struct Entry {
    amount: String,
    currency: Option<String>,
    credit: Option<bool>,
    booked_on: String,
    bank_ref: String,
    remittance: Vec<String>,
    payer: String,
}

/// Adds text to the entry being read, by where it stands.
fn text(entry: &mut Option<Entry>, path: &[String], value: &str) {
    let Some(en) = entry.as_mut() else { return };
    let at = |suffix: &[&str]| {
        path.len() >= suffix.len() && path[path.len() - suffix.len()..].iter().zip(suffix).all(|(a, b)| a == b)
    };
    if value.is_empty() {
        return;
    }
    if at(&["Ntry", "Amt"]) {
        en.amount = value.to_string();
    } else if at(&["Ntry", "CdtDbtInd"]) {
        en.credit = Some(value.trim() == "CRDT");
    } else if at(&["BookgDt", "Dt"]) || at(&["BookgDt", "DtTm"]) {
        en.booked_on = value.trim().chars().take(10).collect();
    } else if at(&["Ntry", "AcctSvcrRef"]) || (at(&["Ntry", "NtryRef"]) && en.bank_ref.is_empty()) {
        en.bank_ref = value.trim().to_string();
    } else if at(&["RmtInf", "Ustrd"]) || at(&["CdtrRefInf", "Ref"]) {
        en.remittance.push(value.trim().to_string());
    } else if at(&["Dbtr", "Nm"]) || at(&["Dbtr", "Pty", "Nm"]) {
        en.payer = value.trim().to_string();
    }
}

impl Entry {
    fn into_credit(self, n: usize) -> Result<Option<Credit>, StatementError> {
        if self.credit != Some(true) {
            return Ok(None);
        }
        let code = self.currency.ok_or_else(|| fail(format!("entry {n}: the amount has no currency")))?;
        let currency = Currency::parse(&code).ok_or_else(|| fail(format!("entry {n}: unknown currency {code}")))?;
        let amount =
            Money::parse(self.amount.trim(), currency).map_err(|e| fail(format!("entry {n}: {e}"))).and_then(|m| {
                if m.amount > 0 { Ok(m) } else { Err(fail(format!("entry {n}: the amount must be positive"))) }
            })?;
        if self.bank_ref.is_empty() {
            return Err(fail(format!("entry {n}: no AcctSvcrRef or NtryRef to identify it")));
        }
        Ok(Some(Credit {
            bank_ref: self.bank_ref,
            booked_on: self.booked_on,
            amount,
            remittance: self.remittance.join(" "),
            payer: self.payer,
        }))
    }
}

/// Reads the simple CSV statement: a header row naming `date`, `amount`,
/// `currency`, `reference` and `bank_ref` (and optionally `payer`);
/// amounts as decimals, negative for money leaving (skipped).
pub fn parse_csv(text: &str) -> Result<Vec<Credit>, StatementError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| fail(format!("line 1: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let required = ["date", "amount", "currency", "reference", "bank_ref"];
    let mut at = Vec::new();
    for name in required {
        at.push(column(name).ok_or_else(|| fail(format!("line 1: no {name} column")))?);
    }
    let payer = column("payer");
    let mut credits = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let r = record.map_err(|e| fail(format!("line {line}: {e}")))?;
        let get = |k: usize| r.get(at[k]).unwrap_or("").to_string();
        let currency =
            Currency::parse(&get(2)).ok_or_else(|| fail(format!("line {line}: unknown currency {}", get(2))))?;
        let amount = Money::parse(&get(1), currency).map_err(|e| fail(format!("line {line}: {e}")))?;
        if amount.amount <= 0 {
            continue;
        }
        if get(4).is_empty() {
            return Err(fail(format!("line {line}: bank_ref is empty")));
        }
        credits.push(Credit {
            bank_ref: get(4),
            booked_on: get(0),
            amount,
            remittance: get(3),
            payer: payer.and_then(|p| r.get(p)).unwrap_or("").to_string(),
        });
    }
    Ok(credits)
}

/// Transfer references (`OX` followed by digits, as Oxcart issues them)
/// found in remittance text, however the payer spaced or cased them.
pub fn references_in(remittance: &str) -> Vec<String> {
    let compact: String =
        remittance.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    let mut out = Vec::new();
    let mut rest = compact.as_str();
    while let Some(i) = rest.find("OX") {
        let digits: String = rest[i + 2..].chars().take_while(char::is_ascii_digit).collect();
        if digits.len() >= 3 {
            out.push(format!("OX{digits}"));
        }
        rest = &rest[i + 2 + digits.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAMT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-12-07T10:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-1</Id>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="EUR">120.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <BookgDt><Dt>2026-12-06</Dt></BookgDt>
        <AcctSvcrRef>BANK-001</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>Ana Lima &amp; Co</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>Order OX1001 95 thanks</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">9.99</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <BookgDt><Dt>2026-12-06</Dt></BookgDt>
        <AcctSvcrRef>BANK-002</AcctSvcrRef>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>"#;

    #[test]
    fn a_camt053_statement_yields_its_credits() {
        let credits = parse_camt053(CAMT).unwrap();
        assert_eq!(credits.len(), 1, "the debit is skipped");
        let c = &credits[0];
        assert_eq!(c.amount, Money::new(12000, Currency::EUR));
        assert_eq!((c.bank_ref.as_str(), c.booked_on.as_str()), ("BANK-001", "2026-12-06"));
        assert_eq!(c.payer, "Ana Lima & Co");
        assert_eq!(references_in(&c.remittance), ["OX100195"]);
    }

    #[test]
    fn broken_statements_say_what_is_wrong() {
        assert!(parse_camt053("<Document><Stmt>").unwrap_err().0.contains("ends inside <Stmt>"));
        assert!(parse_camt053("<Document/>").unwrap_err().0.contains("camt.053"));
        let no_ccy = CAMT.replace(r#"<Amt Ccy="EUR">120.00</Amt>"#, "<Amt>120.00</Amt>");
        assert!(parse_camt053(&no_ccy).unwrap_err().0.contains("currency"));
        let bad = CAMT.replace("120.00", "12O.00");
        assert!(parse_camt053(&bad).unwrap_err().0.contains("entry 1"));
    }

    #[test]
    fn a_csv_statement_yields_its_credits() {
        let csv = "date,amount,currency,reference,bank_ref,payer\n2026-12-06,120.00,EUR,ox-1001-95,B1,Ana\n2026-12-06,-5.00,EUR,fee,B2,\n";
        let credits = parse_csv(csv).unwrap();
        assert_eq!(credits.len(), 1);
        assert_eq!(references_in(&credits[0].remittance), ["OX100195"]);
        assert!(parse_csv("date,amount\n").unwrap_err().0.contains("currency"));
        assert!(
            parse_csv("date,amount,currency,reference,bank_ref\nx,1.234,EUR,r,b\n").unwrap_err().0.contains("line 2")
        );
    }

    #[test]
    fn references_are_found_however_they_were_typed() {
        assert_eq!(references_in("ox 1001 95"), ["OX100195"]);
        assert_eq!(references_in("OX100195 and OX200297"), ["OX100195", "OX200297"]);
        assert!(references_in("BOX 12").is_empty(), "too short to be ours");
        assert!(references_in("nothing here").is_empty());
    }
}
