//! Shared test support of invoice-export: the fixture invoices every golden test renders, a
//! configuration that maps them, and (in `dataset`) the reader of the benchmark data set.
//!
//! Each test binary uses a different part of this module, so unused items are allowed.
#![allow(dead_code)]

pub mod dataset;

use chrono::NaiveDate;
use invoice_core::{Currency, Customer, Invoice, InvoiceId, Kind, Line, LineKind, Period, TaxCategory};
use invoice_export::{Address, Buyer, Config, Mapping, Seller};
use rust_decimal_macros::dec;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn november() -> Period {
    Period::new(date(2026, 11, 1), date(2026, 11, 30))
}

/// An issued-looking invoice: id, number, dates and billing period set as the book would.
fn base(number: &str, customer: Customer, currency: Currency) -> invoice_core::InvoiceBuilder {
    Invoice::builder(customer, currency)
        .number(number)
        .issue_date(date(2026, 11, 30))
        .due_date(date(2026, 12, 30))
        .billing_period(november())
}

fn with_id(mut invoice: Invoice, id: u64) -> Invoice {
    invoice.id = InvoiceId(id);
    invoice
}

fn customer(id: &str, name: &str) -> Customer {
    let mut c = Customer::new(id, name);
    c.email = Some(format!("billing@{}.example", id.to_lowercase()));
    c.address_lines = vec!["1 Main Street".into(), "Springfield".into(), "US".into()];
    c
}

/// The fixture invoices with their case names (the golden file of case `x` of format `f` is
/// `tests/golden/<f>/<x>.<ext>`). Ids are 1.., numbers `INV-1001`.. (credit notes `CN-...`).
///
/// | case | what it exercises |
/// | --- | --- |
/// | `multi_line` | several lines, items, GL accounts, a down-payment line, a project and location |
/// | `multi_rate` | 19 %, 7 % and 0 % lines and a reverse-charge line (four tax groups) |
/// | `discount` | a discount line with a negative price |
/// | `credit_note` | a credit note (positive amounts) crediting `INV-1001` |
/// | `zero_total` | lines that add up to zero |
/// | `no_lines` | no lines: always skipped |
/// | `jpy` | currency with exponent 0 |
/// | `kwd` | currency with exponent 3 |
/// | `non_ascii` | names and descriptions with ü, Ø, Ł, é, 日本 |
/// | `text_escaping` | commas, quotes, tabs, CR/LF, semicolons and formula-like leading `=`, `+`, `-`, `@` |
pub fn named_fixtures() -> Vec<(&'static str, Invoice)> {
    let multi_line = base("INV-1001", customer("C001", "Acme Corporation"), Currency::USD)
        .project("PRJ-7 Website")
        .location("Boston")
        .memo("Thank you for your business")
        .line(
            Line::new("Consulting, November", dec!(37.5), dec!(120.00))
                .tax_rate(dec!(0.0625))
                .item("CONS")
                .gl_account("4000")
                .service_date(date(2026, 11, 14)),
        )
        .line(
            Line::new("Travel expenses", dec!(1), dec!(312.40))
                .tax_rate(dec!(0.0625))
                .item("TRAVEL")
                .gl_account("4100")
                .kind(LineKind::Expense),
        )
        .line(Line::new("Development", dec!(12.25), dec!(95.00)).tax_rate(dec!(0.0625)).item("DEV").gl_account("4000"))
        .line(
            Line::new("Down payment received", dec!(1), dec!(500.00))
                .tax_rate(dec!(0.0625))
                .gl_account("2400")
                .kind(LineKind::DeferredRevenue),
        )
        .build();

    let multi_rate = base("INV-1002", customer("C002", "Bauer Handels GmbH"), Currency::EUR)
        .line(Line::new("Beratung", dec!(10), dec!(150.00)).tax_rate(dec!(0.19)).item("CONS").gl_account("8400"))
        .line(Line::new("Fachbuch", dec!(2), dec!(39.90)).tax_rate(dec!(0.07)).item("BOOK").gl_account("8300"))
        .line(Line::new("Schulung", dec!(3), dec!(80.00)).tax_rate(dec!(0.19)).item("TRAIN").gl_account("8400"))
        .line(Line::new("Porto", dec!(1), dec!(4.95)).item("POST").gl_account("8200"))
        .line(
            Line::new("Lizenz (EU)", dec!(1), dec!(1000.00))
                .tax_category(TaxCategory::ReverseCharge)
                .item("LIC")
                .gl_account("8336"),
        )
        .build();

    let discount = base("INV-1003", customer("C003", "Brightside Ltd"), Currency::GBP)
        .line(
            Line::new("Retainer, November", dec!(1), dec!(2000.00)).tax_rate(dec!(0.20)).item("RET").gl_account("4000"),
        )
        .line(Line::new("Support hours", dec!(4.5), dec!(85.00)).tax_rate(dec!(0.20)).item("SUP").gl_account("4010"))
        .line(
            Line::new("Loyalty discount 5%", dec!(1), dec!(-119.13))
                .tax_rate(dec!(0.20))
                .item("DISC")
                .gl_account("4000")
                .kind(LineKind::Discount),
        )
        .build();

    let credit_note = base("CN-2001", customer("C001", "Acme Corporation"), Currency::USD)
        .kind(Kind::CreditNote { credits: Some("INV-1001".into()) })
        .memo("Credit for overbilled hours")
        .line(
            Line::new("Consulting, November (credit)", dec!(2.5), dec!(120.00))
                .tax_rate(dec!(0.0625))
                .item("CONS")
                .gl_account("4000"),
        )
        .line(
            Line::new("Travel expenses (credit)", dec!(1), dec!(12.40))
                .tax_rate(dec!(0.0625))
                .item("TRAVEL")
                .gl_account("4100"),
        )
        .build();

    let zero_total = base("INV-1005", customer("C004", "Zero Sum LLC"), Currency::USD)
        .line(
            Line::new("Goodwill session", dec!(2), dec!(150.00)).tax_rate(dec!(0.0625)).item("CONS").gl_account("4000"),
        )
        .line(
            Line::new("Goodwill discount", dec!(1), dec!(-300.00))
                .tax_rate(dec!(0.0625))
                .item("DISC")
                .gl_account("4000")
                .kind(LineKind::Discount),
        )
        .build();

    let no_lines = base("INV-1006", customer("C005", "Empty Holdings"), Currency::USD).build();

    let jpy = base("INV-1007", customer("C006", "Sakura Trading KK"), Currency::JPY)
        .line(Line::new("Consulting", dec!(2.5), dec!(101)).tax_rate(dec!(0.10)).item("CONS").gl_account("4000"))
        .line(Line::new("Translation", dec!(3), dec!(15333)).tax_rate(dec!(0.10)).item("TRANS").gl_account("4020"))
        .line(Line::new("Reduced-rate goods", dec!(7), dec!(333)).tax_rate(dec!(0.08)).item("GOODS").gl_account("4030"))
        .build();

    let kwd = base("INV-1008", customer("C007", "Gulf Systems WLL"), Currency::KWD)
        .line(Line::new("Support", dec!(0.333), dec!(1.5)).tax_rate(dec!(0.05)).item("SUP").gl_account("4010"))
        .line(Line::new("Licence", dec!(12), dec!(41.125)).tax_rate(dec!(0.05)).item("LIC").gl_account("4040"))
        .build();

    let non_ascii = base("INV-1009", customer("C008", "Łukasz Nowak & Søn – Ødegård Müller"), Currency::EUR)
        .memo("Zahlbar ohne Abzug – merci beaucoup, 日本語")
        .line(
            Line::new("Beratung für Größenänderung", dec!(8), dec!(110.00))
                .tax_rate(dec!(0.19))
                .item("CONS")
                .gl_account("8400"),
        )
        .line(
            Line::new("Café & Crème brûlée – 日本出張", dec!(1), dec!(58.30))
                .tax_rate(dec!(0.07))
                .item("MEAL")
                .gl_account("8300"),
        )
        .build();

    let text_escaping = base("INV-1010", customer("C009", "=HYPERLINK(\"http://x\"), Inc."), Currency::USD)
        .memo("Line one\nLine two; \"quoted\", and\ta tab\r\nend")
        .line(
            Line::new("Design, \"phase 1\"; concept\twork\nsecond line", dec!(10), dec!(99.50))
                .tax_rate(dec!(0.08))
                .item("DESIGN")
                .gl_account("4000"),
        )
        .line(Line::new("+1 extra review", dec!(1), dec!(50.00)).tax_rate(dec!(0.08)).item("REVIEW").gl_account("4000"))
        .line(
            Line::new("-dash, @at and \rreturn", dec!(1), dec!(25.00))
                .tax_rate(dec!(0.08))
                .item("@MISC")
                .gl_account("4000"),
        )
        .build();

    let all = [
        ("multi_line", multi_line),
        ("multi_rate", multi_rate),
        ("discount", discount),
        ("credit_note", credit_note),
        ("zero_total", zero_total),
        ("no_lines", no_lines),
        ("jpy", jpy),
        ("kwd", kwd),
        ("non_ascii", non_ascii),
        ("text_escaping", text_escaping),
    ];
    all.into_iter().enumerate().map(|(i, (name, inv))| (name, with_id(inv, i as u64 + 1))).collect()
}

/// The fixture invoices, in the order of [`named_fixtures`].
pub fn fixtures() -> Vec<Invoice> {
    named_fixtures().into_iter().map(|(_, i)| i).collect()
}

/// One fixture by case name.
pub fn fixture(name: &str) -> Invoice {
    named_fixtures()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, i)| i)
        .unwrap_or_else(|| panic!("no fixture named {name}"))
}

fn mapping(pairs: &[(&str, &str)], fallback: Option<&str>) -> Mapping {
    Mapping {
        map: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        fallback: fallback.map(str::to_string),
    }
}

/// A configuration that maps every code of the fixtures (with fallbacks for the rest), a
/// seller and a buyer per fixture customer.
pub fn fixture_config() -> Config {
    let mut config = Config {
        customers: mapping(&[("C001", "Acme Corporation")], None),
        items: mapping(
            &[("CONS", "Consulting"), ("DEV", "Development"), ("TRAVEL", "Reimbursable Expenses")],
            Some("Services"),
        ),
        accounts: mapping(&[("4000", "Consulting Income"), ("4100", "Reimbursed Expenses")], Some("Other Income")),
        tax_codes: mapping(&[("S:0.19", "UST19"), ("S:0.07", "UST7"), ("S:0.2", "T1"), ("Z:0", "T0")], Some("TAX")),
        ar_account: "Accounts Receivable".into(),
        tax_account: "Sales Tax Payable".into(),
        class: Some("Consulting".into()),
        ..Config::default()
    };
    config.seller = Seller {
        name: "Demo Consulting GmbH".into(),
        vat_id: Some("DE123456789".into()),
        registration_id: Some("HRB 12345".into()),
        address: Address {
            street: "Hauptstraße 1".into(),
            additional: None,
            city: "Berlin".into(),
            postal_code: "10115".into(),
            country_code: "DE".into(),
        },
        endpoint_id: Some("DE123456789".into()),
        endpoint_scheme: Some("9930".into()),
        iban: Some("DE89370400440532013000".into()),
        bic: Some("COBADEFFXXX".into()),
        email: Some("billing@demo.example".into()),
    };
    for (_, invoice) in named_fixtures() {
        let c = &invoice.customer;
        config.buyers.entry(c.id.clone()).or_insert_with(|| Buyer {
            address: Address {
                street: "1 Main Street".into(),
                additional: None,
                city: "Springfield".into(),
                postal_code: "12345".into(),
                country_code: "US".into(),
            },
            vat_id: None,
            endpoint_id: Some(format!("{}@peppol.example", c.id.to_lowercase())),
            endpoint_scheme: Some("0088".into()),
            reference: Some(format!("PO-{}", c.id)),
        });
    }
    config
}

/// Readers of the CSV-like outputs for the tests: CSV rows, Windows-1252 text, IIF
/// transactions.
pub mod parse {
    use std::collections::BTreeMap;

    /// Windows-1252 bytes as text.
    pub fn cp1252(bytes: &[u8]) -> String {
        const HIGH: [char; 32] = [
            '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}',
            '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
        ];
        bytes
            .iter()
            .map(|&b| if (0x80..0xa0).contains(&b) { HIGH[usize::from(b - 0x80)] } else { char::from(b) })
            .collect()
    }

    /// Every record of a CSV file (header included), fields decoded as UTF-8 or Windows-1252.
    pub fn records(bytes: &[u8], delimiter: u8, windows1252: bool) -> Result<Vec<Vec<String>>, String> {
        let mut reader =
            csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(bytes);
        let mut out = Vec::new();
        for (i, rec) in reader.byte_records().enumerate() {
            let rec = rec.map_err(|e| format!("record {}: {e}", i + 1))?;
            let mut row = Vec::with_capacity(rec.len());
            for field in rec.iter() {
                row.push(if windows1252 {
                    cp1252(field)
                } else {
                    String::from_utf8(field.to_vec()).map_err(|e| format!("record {}: not UTF-8: {e}", i + 1))?
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    /// A header row and the rows under it, as column name -> value.
    pub type Table = (Vec<String>, Vec<BTreeMap<String, String>>);

    /// The rows of a CSV file with a header row, as column name -> value.
    pub fn table(bytes: &[u8], delimiter: u8, windows1252: bool) -> Result<Table, String> {
        let mut all = records(bytes, delimiter, windows1252)?;
        if all.is_empty() {
            return Err("no header row".into());
        }
        let header = all.remove(0);
        let mut rows = Vec::with_capacity(all.len());
        for (i, r) in all.into_iter().enumerate() {
            if r.len() != header.len() {
                return Err(format!("row {} has {} fields, the header {}", i + 2, r.len(), header.len()));
            }
            rows.push(header.iter().cloned().zip(r).collect());
        }
        Ok((header, rows))
    }

    /// One IIF transaction: its `TRNS` row and its `SPL` rows, by column name.
    #[derive(Debug, Clone)]
    pub struct IifTransaction {
        /// The `TRNS` row.
        pub trns: BTreeMap<String, String>,
        /// The `SPL` rows.
        pub splits: Vec<BTreeMap<String, String>>,
    }

    /// Parse an IIF file and check its structure: CRLF line endings and nothing else, no
    /// byte-order mark, `!TRNS`/`!SPL`/`!ENDTRNS` header rows before the data, every data row
    /// as long as its header, `TRNS` then at least one `SPL` then `ENDTRNS`.
    pub fn iif(bytes: &[u8]) -> Result<Vec<IifTransaction>, String> {
        if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
            return Err("the file starts with a UTF-8 byte-order mark".into());
        }
        for (i, w) in bytes.windows(2).enumerate() {
            if w[1] == b'\n' && w[0] != b'\r' {
                return Err(format!("a bare LF at byte {}", i + 1));
            }
        }
        if !bytes.ends_with(b"\r\n") {
            return Err("the file does not end with CRLF".into());
        }
        let rows = records(bytes, b'\t', true)?;
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut out: Vec<IifTransaction> = Vec::new();
        let mut open: Option<IifTransaction> = None;
        for (i, row) in rows.into_iter().enumerate() {
            let n = i + 1;
            let keyword = row.first().cloned().unwrap_or_default();
            if let Some(name) = keyword.strip_prefix('!') {
                headers.insert(name.to_string(), row);
                continue;
            }
            let header =
                headers.get(&keyword).ok_or_else(|| format!("row {n}: {keyword} before its !{keyword} header"))?;
            if header.len() != row.len() {
                return Err(format!("row {n}: {keyword} has {} fields, its header {}", row.len(), header.len()));
            }
            let map: BTreeMap<String, String> = header.iter().skip(1).cloned().zip(row.into_iter().skip(1)).collect();
            match keyword.as_str() {
                "TRNS" => {
                    if open.is_some() {
                        return Err(format!("row {n}: TRNS inside an open transaction"));
                    }
                    open = Some(IifTransaction { trns: map, splits: Vec::new() });
                }
                "SPL" => open.as_mut().ok_or_else(|| format!("row {n}: SPL outside a transaction"))?.splits.push(map),
                "ENDTRNS" => {
                    let t = open.take().ok_or_else(|| format!("row {n}: ENDTRNS without TRNS"))?;
                    if t.splits.is_empty() {
                        return Err(format!("row {n}: a transaction without SPL rows"));
                    }
                    out.push(t);
                }
                other => return Err(format!("row {n}: unknown keyword {other}")),
            }
        }
        if open.is_some() {
            return Err("the last transaction has no ENDTRNS".into());
        }
        Ok(out)
    }
}
