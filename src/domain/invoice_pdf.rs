//! An issued invoice or credit note as a PDF (A4), for download and the
//! buyer's records; the same content as the printable page.
//!
//! Nothing is embedded: Latin text is set in the standard Helvetica
//! (WinAnsi encoding, which covers en, de, es, pt), and any other text
//! (Chinese) in STSong-Light through the UniGB-UCS2-H CMap, the standard
//! Adobe-GB1 font every PDF reader supplies, so a document stays a few
//! kilobytes and needs no font file on the server. A string mixing scripts
//! is set in runs, each in the font that has its characters. Widths are
//! Helvetica's metrics (for right-aligned amounts and wrapping), 1 em per
//! Chinese character.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use super::invoices::{InvoiceDoc, InvoiceKind};

/// The words of a document in its language.
pub struct Labels<'a> {
    pub invoice: &'a str,
    pub credit_note: &'a str,
    pub date: &'a str,
    pub order: &'a str,
    pub due: &'a str,
    pub credits: &'a str,
    pub seller: &'a str,
    pub buyer: &'a str,
    pub vat_id: &'a str,
    pub tax_number: &'a str,
    pub description: &'a str,
    pub quantity: &'a str,
    pub rate: &'a str,
    pub net: &'a str,
    pub tax: &'a str,
    pub gross: &'a str,
    pub total: &'a str,
    pub reverse_charge: &'a str,
    pub pay_to: &'a str,
    pub page: &'a str,
}

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = WIDTH - 50.0;
const TOP: f32 = HEIGHT - 60.0;
const BOTTOM: f32 = 70.0;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const CHINESE: Name<'static> = Name(b"F3");

/// Right edges of the amount columns, and where the description ends.
const COL_QTY: f32 = 300.0;
const COL_RATE: f32 = 350.0;
const COL_NET: f32 = 415.0;
const COL_TAX: f32 = 480.0;
const COL_GROSS: f32 = RIGHT;
const DESCRIPTION_WIDTH: f32 = 230.0;

/// The document as PDF bytes. `money` formats minor units in the
/// document's currency and language.
pub fn render(doc: &InvoiceDoc, labels: &Labels<'_>, brand: &str, money: &dyn Fn(i64) -> String) -> Vec<u8> {
    let mut w = Writer::new();
    let title = if doc.kind == InvoiceKind::Invoice { labels.invoice } else { labels.credit_note };

    w.text(LEFT, 18.0, true, title);
    w.right(RIGHT, 12.0, true, brand);
    w.down(20.0);
    let mut head =
        format!("{} · {} {} · {} {}", doc.number, labels.date, doc.issued_on, labels.order, doc.order_number);
    if let Some(due) = &doc.due_on {
        head.push_str(&format!(" · {} {due}", labels.due));
    }
    w.text(LEFT, 10.0, false, &head);
    if let Some(original) = &doc.credits {
        w.down(14.0);
        w.text(LEFT, 10.0, false, &format!("{} {original}", labels.credits));
    }
    w.down(26.0);

    // Seller and buyer side by side.
    let seller = party_lines(&doc.seller, labels, true);
    let buyer = party_lines(&doc.buyer, labels, false);
    w.text(LEFT, 10.0, true, labels.seller);
    w.text(WIDTH / 2.0, 10.0, true, labels.buyer);
    for i in 0..seller.len().max(buyer.len()) {
        w.down(13.0);
        if let Some(l) = seller.get(i) {
            w.text(LEFT, 9.5, false, l);
        }
        if let Some(l) = buyer.get(i) {
            w.text(WIDTH / 2.0, 9.5, false, l);
        }
    }
    w.down(28.0);

    let header = |w: &mut Writer| {
        w.text(LEFT, 9.0, true, labels.description);
        w.right(COL_QTY, 9.0, true, labels.quantity);
        w.right(COL_RATE, 9.0, true, labels.rate);
        w.right(COL_NET, 9.0, true, labels.net);
        w.right(COL_TAX, 9.0, true, labels.tax);
        w.right(COL_GROSS, 9.0, true, labels.gross);
        w.down(5.0);
        w.rule();
        w.down(13.0);
    };
    header(&mut w);
    for line in &doc.lines {
        // The description's lines at 9 pt, then the SKU smaller beneath them.
        let description = wrap(&line.description, 9.0, DESCRIPTION_WIDTH);
        let rows: Vec<(f32, &str)> = description
            .iter()
            .map(|part| (9.0, part.as_str()))
            .chain((!line.sku.is_empty()).then_some((8.0, line.sku.as_str())))
            .collect();
        if w.needs_page(13.0 * rows.len() as f32) {
            w.new_page();
            header(&mut w);
        }
        w.right(COL_QTY, 9.0, false, &line.quantity.to_string());
        w.right(COL_RATE, 9.0, false, &format!("{} %", line.tax_rate));
        w.right(COL_NET, 9.0, false, &money(line.net));
        w.right(COL_TAX, 9.0, false, &money(line.tax));
        w.right(COL_GROSS, 9.0, false, &money(line.gross));
        for (i, (size, part)) in rows.into_iter().enumerate() {
            if i > 0 {
                w.down(11.0);
            }
            w.text(LEFT, size, false, part);
        }
        w.down(15.0);
    }
    w.rule();
    w.down(16.0);

    // Tax per rate, then the totals.
    if w.needs_page(16.0 * (doc.taxes.len() as f32 + 3.0)) {
        w.new_page();
    }
    for t in &doc.taxes {
        w.text(COL_RATE - 60.0, 9.0, false, &format!("{} ({} %)", t.label, t.rate));
        w.right(COL_NET + 40.0, 9.0, false, &money(t.net));
        w.right(COL_GROSS, 9.0, false, &money(t.tax));
        w.down(14.0);
    }
    for (label, amount, bold) in
        [(labels.net, doc.net, false), (labels.tax, doc.tax, false), (labels.total, doc.gross, true)]
    {
        w.text(COL_RATE - 60.0, 10.0, bold, label);
        w.right(COL_GROSS, 10.0, bold, &money(amount));
        w.down(15.0);
    }
    w.down(10.0);

    let mut notes: Vec<String> = Vec::new();
    if doc.reverse_charge {
        notes.push(labels.reverse_charge.to_string());
    }
    if !doc.payee_iban.is_empty() {
        let bic = if doc.payee_bic.is_empty() { String::new() } else { format!(" · BIC {}", doc.payee_bic) };
        notes.push(format!("{} IBAN {}{bic} · {}", labels.pay_to, doc.payee_iban, doc.number));
    }
    notes.extend(doc.notes.iter().cloned());
    for note in &notes {
        for part in wrap(note, 9.0, RIGHT - LEFT) {
            if w.needs_page(12.0) {
                w.new_page();
            }
            w.text(LEFT, 9.0, false, &part);
            w.down(12.0);
        }
        w.down(4.0);
    }
    w.finish(&format!("{title} {}", doc.number), labels.page)
}

/// A party's block: company, name, address, country, tax ids.
fn party_lines(p: &super::invoices::Party, labels: &Labels<'_>, seller: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !p.company.is_empty() {
        out.push(p.company.clone());
    }
    if !seller && !p.name.is_empty() {
        out.push(p.name.clone());
    }
    out.extend(p.address_lines.iter().cloned());
    if !p.country.is_empty() {
        out.push(p.country.clone());
    }
    if !p.vat_id.is_empty() {
        out.push(format!("{} {}", labels.vat_id, p.vat_id));
    }
    if !p.tax_number.is_empty() {
        out.push(format!("{} {}", labels.tax_number, p.tax_number));
    }
    out
}

/// Lays pages out from the top down.
struct Writer {
    pages: Vec<Content>,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Self { pages: vec![Content::new()], y: TOP }
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }

    fn needs_page(&self, height: f32) -> bool {
        self.y - height < BOTTOM
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }

    fn content(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a page")
    }

    /// A thin line across the page at the current height.
    fn rule(&mut self) {
        let y = self.y;
        let c = self.content();
        c.set_line_width(0.5);
        c.move_to(LEFT, y);
        c.line_to(RIGHT, y);
        c.stroke();
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, s: &str) {
        let y = self.y;
        show(self.content(), x, y, size, bold, s);
    }

    fn right(&mut self, right_edge: f32, size: f32, bold: bool, s: &str) {
        let x = right_edge - width(s, size, bold);
        self.text(x, size, bold, s);
    }

    /// The finished file: every page with a "page n / m" footer.
    fn finish(mut self, title: &str, page_word: &str) -> Vec<u8> {
        let count = self.pages.len();
        for (i, c) in self.pages.iter_mut().enumerate() {
            let footer = format!("{title} · {page_word} {} / {count}", i + 1);
            show(c, LEFT, 40.0, 8.0, false, &footer);
        }
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let (regular, bold, chinese, chinese_cid, chinese_descriptor) =
            (Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
        let first_page = 8;
        let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(first_page + 2 * i as i32)).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_ids.iter().copied()).count(count as i32);
        for (i, content) in self.pages.into_iter().enumerate() {
            let (page_id, content_id) = (page_ids[i], Ref::new(first_page + 2 * i as i32 + 1));
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(REGULAR, regular);
            fonts.pair(BOLD, bold);
            fonts.pair(CHINESE, chinese);
            drop(fonts);
            drop(resources);
            drop(page);
            pdf.stream(content_id, &content.finish());
        }
        for (id, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
            pdf.type1_font(id).base_font(Name(name)).encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.type0_font(chinese)
            .base_font(Name(b"STSong-Light-UniGB-UCS2-H"))
            .encoding_predefined(Name(b"UniGB-UCS2-H"))
            .descendant_font(chinese_cid);
        pdf.cid_font(chinese_cid)
            .subtype(CidFontType::Type0)
            .base_font(Name(b"STSong-Light"))
            .system_info(SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"GB1"), supplement: 2 })
            .font_descriptor(chinese_descriptor)
            .default_width(1000.0);
        pdf.font_descriptor(chinese_descriptor)
            .name(Name(b"STSong-Light"))
            .flags(FontFlags::SYMBOLIC | FontFlags::SERIF)
            .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
            .italic_angle(0.0)
            .ascent(880.0)
            .descent(-120.0)
            .cap_height(880.0)
            .stem_v(93.0);
        pdf.finish()
    }
}

/// Shows `s` at (x, y), in runs of the font that has their characters.
fn show(c: &mut Content, x: f32, y: f32, size: f32, bold: bool, s: &str) {
    let mut at = x;
    for (latin, run) in runs(s) {
        let (font, bytes) = if latin {
            (if bold { BOLD } else { REGULAR }, run.chars().filter_map(win_ansi).collect::<Vec<u8>>())
        } else {
            (CHINESE, ucs2(&run))
        };
        c.begin_text();
        c.set_font(font, size);
        c.next_line(at, y);
        c.show(Str(&bytes));
        c.end_text();
        at += width(&run, size, bold);
    }
}

/// Splits `s` into runs that Helvetica can set (true) and runs it cannot.
fn runs(s: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for ch in s.chars() {
        let latin = win_ansi(ch).is_some();
        match out.last_mut() {
            Some((l, run)) if *l == latin => run.push(ch),
            _ => out.push((latin, ch.to_string())),
        }
    }
    out
}

/// UTF-16BE for the UCS-2 CMap; characters beyond it become "?".
fn ucs2(s: &str) -> Vec<u8> {
    s.chars().flat_map(|ch| u16::try_from(u32::from(ch)).unwrap_or(0x3F).to_be_bytes()).collect()
}

/// The WinAnsiEncoding byte of a character, if it has one. Unicode's
/// no-break spaces (which number formats use) are set as the no-break space.
fn win_ansi(ch: char) -> Option<u8> {
    let code = u32::from(ch);
    match code {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(code).ok(),
        0x202F | 0x2007 => Some(0xA0),
        _ => {
            const SPECIAL: [(char, u8); 27] = [
                ('€', 0x80),
                ('‚', 0x82),
                ('ƒ', 0x83),
                ('„', 0x84),
                ('…', 0x85),
                ('†', 0x86),
                ('‡', 0x87),
                ('ˆ', 0x88),
                ('‰', 0x89),
                ('Š', 0x8A),
                ('‹', 0x8B),
                ('Œ', 0x8C),
                ('Ž', 0x8E),
                ('‘', 0x91),
                ('’', 0x92),
                ('“', 0x93),
                ('”', 0x94),
                ('•', 0x95),
                ('–', 0x96),
                ('—', 0x97),
                ('˜', 0x98),
                ('™', 0x99),
                ('š', 0x9A),
                ('›', 0x9B),
                ('œ', 0x9C),
                ('ž', 0x9E),
                ('Ÿ', 0x9F),
            ];
            SPECIAL.iter().find(|(c, _)| *c == ch).map(|(_, b)| *b)
        }
    }
}

/// Helvetica's advance widths (thousandths of an em) for ASCII 32–126,
/// from its published metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // : to @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [ to `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a-z
    334, 260, 334, 584, // { to ~
];

/// The width of `s` in points: Helvetica's for Latin (bold a little wider),
/// one em for anything else.
fn width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s
        .chars()
        .map(|ch| match u32::from(ch) {
            c @ 0x20..=0x7E => u32::from(HELVETICA[(c - 0x20) as usize]),
            _ if win_ansi(ch).is_some() => 556,
            _ => 1000,
        })
        .sum();
    let bold_factor = if bold { 1.06 } else { 1.0 };
    units as f32 / 1000.0 * size * bold_factor
}

/// `s` broken at spaces (or anywhere, for text without them) into lines
/// no wider than `max` points.
fn wrap(s: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if width(&candidate, size, false) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word (or a Chinese phrase) wider than the line is cut.
        for ch in word.chars() {
            let mut longer = line.clone();
            longer.push(ch);
            if width(&longer, size, false) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line.push(ch);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_text_is_win_ansi_and_chinese_is_ucs2() {
        assert_eq!(
            runs("Größe 智能手机 €5"),
            vec![(true, "Größe ".to_string()), (false, "智能手机".to_string()), (true, " €5".to_string())]
        );
        assert_eq!(win_ansi('€'), Some(0x80));
        assert_eq!(win_ansi('ß'), Some(0xDF));
        assert_eq!(win_ansi('ł'), None);
        assert_eq!(ucs2("手"), vec![0x62, 0x4B]);
    }

    #[test]
    fn widths_follow_the_metrics_and_wrapping_keeps_lines_inside() {
        // "10" in Helvetica is 2 × 556 thousandths of an em.
        assert!((width("10", 10.0, false) - 11.12).abs() < 0.001);
        assert_eq!(width("手机", 10.0, false), 20.0);
        let text = "A very long product description that certainly does not fit on one line";
        let lines = wrap(text, 9.0, 100.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| width(l, 9.0, false) <= 100.0));
        assert_eq!(lines.join(" "), text);
        let chinese = wrap(&"智能手机壳".repeat(10), 9.0, 90.0);
        assert!(chinese.iter().all(|l| width(l, 9.0, false) <= 90.0));
        assert_eq!(chinese.concat(), "智能手机壳".repeat(10));
    }

    fn doc(lang: &str, description: &str, lines: usize) -> InvoiceDoc {
        let party = |name: &str| super::super::invoices::Party {
            name: name.into(),
            company: String::new(),
            vat_id: String::new(),
            address_lines: vec!["Hauptstr. 1".into(), "10115 Berlin".into()],
            country: "DE".into(),
            tax_number: String::new(),
        };
        let line = super::super::invoices::DocLine {
            description: description.into(),
            sku: "SKU-1".into(),
            quantity: 1,
            net: 1000,
            tax: 190,
            gross: 1190,
            tax_rate: "19".into(),
        };
        InvoiceDoc {
            kind: InvoiceKind::Invoice,
            number: "INV-2026-000007".into(),
            issued_on: "2026-12-07".into(),
            currency: "EUR".into(),
            lang: lang.into(),
            order_number: 42,
            credits: None,
            seller: party("Outfitters GmbH"),
            buyer: party("Jürgen Groß"),
            lines: vec![line; lines],
            taxes: vec![],
            net: 1000,
            tax: 190,
            gross: 1190,
            reverse_charge: false,
            due_on: None,
            payee_iban: String::new(),
            payee_bic: String::new(),
            notes: vec![],
        }
    }

    fn labels(title: &'static str) -> Labels<'static> {
        Labels {
            invoice: title,
            credit_note: "Credit note",
            date: "Date",
            order: "Order",
            due: "Due",
            credits: "Credits",
            seller: "Seller",
            buyer: "Buyer",
            vat_id: "VAT id",
            tax_number: "Tax number",
            description: "Description",
            quantity: "Qty",
            rate: "Rate",
            net: "Net",
            tax: "Tax",
            gross: "Gross",
            total: "Total",
            reverse_charge: "Reverse charge",
            pay_to: "Pay to",
            page: "Page",
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Whether the PDF shows these bytes: as a literal string, or inside a
    /// hex string (pdf-writer writes strings with bytes beyond ASCII so).
    fn shows(pdf: &[u8], text: &[u8]) -> bool {
        let hex: String = text.iter().map(|b| format!("{b:02X}")).collect();
        contains(pdf, &[b"(", text, b")"].concat()) || contains(pdf, hex.as_bytes())
    }

    fn euros(m: i64) -> String {
        format!("€{}.{:02}", m / 100, m % 100)
    }

    #[test]
    fn a_document_is_a_pdf_with_its_text_in_the_right_fonts() {
        let pdf = render(&doc("de", "Zelt für 2 Personen", 1), &labels("Rechnung"), "Outfitters", &euros);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(shows(&pdf, b"INV-2026-000007 \xB7 Date 2026-12-07 \xB7 Order 42"));
        // Latin-1 letters and the euro sign as their WinAnsi bytes.
        assert!(shows(&pdf, b"J\xFCrgen Gro\xDF"), "{}", String::from_utf8_lossy(&pdf));
        assert!(shows(&pdf, b"\x8011.90"));
        assert!(shows(&pdf, b"Rechnung INV-2026-000007 \xB7 Page 1 / 1"));

        let zh = render(&doc("zh", "智能手机壳", 1), &labels("发票"), "Outfitters", &euros);
        assert!(contains(&zh, b"/UniGB-UCS2-H") && contains(&zh, b"/STSong-Light"));
        // 发票 in UTF-16BE.
        assert!(shows(&zh, &[0x53, 0xD1, 0x79, 0x68]));
    }

    #[test]
    fn many_lines_run_onto_more_pages() {
        let pdf = render(&doc("en", "Tent", 120), &labels("Invoice"), "Outfitters", &euros);
        // Two rows a line (description, SKU): five pages, each with its footer.
        assert!(contains(&pdf, b"/Count 5"));
        for n in 1..=5 {
            assert!(shows(
                &pdf,
                &[&b"Invoice INV-2026-000007 \xB7 Page "[..], n.to_string().as_bytes(), b" / 5"].concat()
            ));
        }
    }
}
