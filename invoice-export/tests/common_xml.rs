//! Test support of the XML and JSON targets (qbxml, qbo-json, intacct, ubl, cii): the shared
//! fixtures of `common/` plus the cases only e-invoices have (every VAT category, German
//! parties, credit notes without a reference, adjustments), a configuration that gives every
//! fixture customer valid e-invoice data, the discovery of the official validators, and the
//! export helpers the golden and conformance tests share.
#![allow(dead_code)]

// The shared module belongs to the CSV half; its lints are checked in its own test binaries.
#[allow(clippy::type_complexity)]
#[path = "common/mod.rs"]
pub mod common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use invoice_core::{Currency, Customer, Invoice, InvoiceId, Kind, Line, LineKind, Outcome, Period, TaxCategory};
use invoice_export::config::Contact;
use invoice_export::{Address, Buyer, Config, DocumentSink, Format, Layout, Report};
use rust_decimal_macros::dec;

/// The formats of this half of the crate.
pub const XML_FORMATS: [&str; 5] = ["qbxml", "qbo-json", "intacct", "ubl", "cii"];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// A GS1 Global Location Number (13 digits, valid check digit) for Peppol scheme 0088.
pub fn gln(n: u64) -> String {
    let payload = format!("{:012}", 400_000_000_000 + n);
    let sum: u32 =
        payload.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{payload}{}", (10 - sum % 10) % 10)
}

fn address(street: &str, city: &str, postal_code: &str, country_code: &str) -> Address {
    Address {
        street: street.into(),
        additional: None,
        city: city.into(),
        postal_code: postal_code.into(),
        country_code: country_code.into(),
    }
}

fn customer(id: &str, name: &str, lines: &[&str]) -> Customer {
    let mut c = Customer::new(id, name);
    c.email = Some(format!("ap@{}.example", id.to_lowercase()));
    c.address_lines = lines.iter().map(|l| l.to_string()).collect();
    c
}

fn base(number: &str, customer: Customer, currency: Currency) -> invoice_core::InvoiceBuilder {
    Invoice::builder(customer, currency)
        .number(number)
        .issue_date(date(2026, 11, 30))
        .due_date(date(2026, 12, 30))
        .billing_period(Period::new(date(2026, 11, 1), date(2026, 11, 30)))
}

/// The cases only e-invoices need, numbered `INV-3001`.. (`CN-4001`.. for credit notes),
/// ids from 101.
///
/// | case | what it exercises |
/// | --- | --- |
/// | `intra_community` | K lines to a French business: buyer VAT id, billing period, deliver-to country |
/// | `export_outside_eu` | G lines to a Swiss customer |
/// | `exempt_and_standard` | an exempt (E) line beside a standard-rated one |
/// | `outside_scope` | only O lines: no VAT ids written, the seller's registration id instead |
/// | `domestic_de` | German seller and buyer (Peppol's DE rules), two discounts at 19 % and 7 %, a multi-line description, a control character, a service date |
/// | `credit_note_unreferenced` | a credit note with a discount line and no credited invoice |
/// | `adjustment` | an adjustment invoice (384) correcting `INV-1002` |
/// | `credit_note_jpy` | a JPY credit note |
/// | `japanese_name` | a customer name in Japanese script only |
/// | `kwd_mills` | a KWD amount that needs its third decimal (beyond what EN 16931 and qbXML take) |
pub fn extra_fixtures() -> Vec<(&'static str, Invoice)> {
    let fr = customer("X001", "Société Générale des Eaux SA", &["12 rue de Rivoli", "75001 Paris", "France"]);
    let ch = customer("X002", "Zürcher Präzision AG", &["Bahnhofstrasse 10", "8001 Zürich", "Switzerland"]);
    let de = customer("X003", "Bäckerei Groß & Söhne GmbH", &["Lindenallee 5", "20095 Hamburg", "Deutschland"]);
    let jp = customer("X004", "株式会社日本テック", &["銀座 1-2-3", "東京都中央区 104-0061", "日本"]);

    let intra_community = base("INV-3001", fr.clone(), Currency::EUR)
        .memo("Intra-Community supply, exempt under Article 138 of Directive 2006/112/EC")
        .line(
            Line::new("Industrial pump PX-200", dec!(2), dec!(1450.00))
                .tax_category(TaxCategory::IntraCommunity)
                .item("PUMP")
                .gl_account("8125"),
        )
        .line(
            Line::new("Spare seal kit", dec!(10), dec!(12.35))
                .tax_category(TaxCategory::IntraCommunity)
                .item("SEAL")
                .gl_account("8125"),
        )
        .build();

    let export_outside_eu = base("INV-3002", ch.clone(), Currency::CHF)
        .line(
            Line::new("Calibration service", dec!(6), dec!(180.00))
                .tax_category(TaxCategory::Export)
                .item("CAL")
                .gl_account("8120"),
        )
        .build();

    let exempt_and_standard = base("INV-3003", fr.clone(), Currency::EUR)
        .line(
            Line::new("Training course (exempt)", dec!(1), dec!(900.00)).tax_category(TaxCategory::Exempt).item("EDU"),
        )
        .line(Line::new("Course material", dec!(12), dec!(19.99)).tax_rate(dec!(0.19)).item("BOOK"))
        .build();

    let outside_scope = base("INV-3004", ch.clone(), Currency::EUR)
        .line(
            Line::new("Damages settlement", dec!(1), dec!(2500.00))
                .tax_category(TaxCategory::OutsideScope)
                .item("MISC"),
        )
        .build();

    let domestic_de = base("INV-3005", de.clone(), Currency::EUR)
        .memo("Lieferung frei Haus.\nBitte Rechnungsnummer angeben.")
        .line(
            Line::new("Backofen-Wartung\nInklusive Anfahrt und Kleinteile", dec!(3.5), dec!(89.90))
                .tax_rate(dec!(0.19))
                .item("SERVICE")
                .gl_account("8400")
                .service_date(date(2026, 11, 12)),
        )
        .line(
            Line::new("Fachliteratur \u{1}Backen", dec!(4), dec!(24.95))
                .tax_rate(dec!(0.07))
                .item("BOOK")
                .gl_account("8300"),
        )
        .line(
            Line::new("Treuerabatt Wartung", dec!(1), dec!(-15.00))
                .tax_rate(dec!(0.19))
                .item("DISC")
                .gl_account("8400")
                .kind(LineKind::Discount),
        )
        .line(
            Line::new("Treuerabatt Literatur", dec!(1), dec!(-4.99))
                .tax_rate(dec!(0.07))
                .item("DISC")
                .gl_account("8300")
                .kind(LineKind::Discount),
        )
        .build();

    let credit_note_unreferenced = base("CN-4001", de.clone(), Currency::EUR)
        .kind(Kind::CreditNote { credits: None })
        .memo("Goodwill credit")
        .line(
            Line::new("Gutschrift Wartung", dec!(2), dec!(89.90))
                .tax_rate(dec!(0.19))
                .item("SERVICE")
                .gl_account("8400"),
        )
        .line(
            Line::new("Abzug Bearbeitung", dec!(1), dec!(-10.00))
                .tax_rate(dec!(0.19))
                .item("DISC")
                .gl_account("8400")
                .kind(LineKind::Discount),
        )
        .build();

    let adjustment = base("INV-3006", fr.clone(), Currency::EUR)
        .kind(Kind::Adjustment { corrects: "INV-1002".into() })
        .memo("Corrects the quantity billed on INV-1002")
        .line(
            Line::new("Beratung, Nachberechnung", dec!(2), dec!(150.00))
                .tax_rate(dec!(0.19))
                .item("CONS")
                .gl_account("8400"),
        )
        .build();

    let credit_note_jpy = base("CN-4002", jp.clone(), Currency::JPY)
        .kind(Kind::CreditNote { credits: Some("INV-1007".into()) })
        .line(
            Line::new("Translation (credit)", dec!(1), dec!(15333))
                .tax_rate(dec!(0.10))
                .item("TRANS")
                .gl_account("4020"),
        )
        .build();

    let japanese_name = base("INV-3007", jp, Currency::JPY)
        .memo("ありがとうございました")
        .line(
            Line::new("システム保守 (11月)", dec!(1), dec!(250000))
                .tax_rate(dec!(0.10))
                .item("MAINT")
                .gl_account("4000"),
        )
        .line(Line::new("出張費", dec!(2), dec!(12345)).tax_rate(dec!(0.10)).item("TRAVEL").gl_account("4100"))
        .build();

    let kwd_mills =
        base("INV-3008", customer("C007", "Gulf Systems WLL", &["Block 3", "Kuwait City", "Kuwait"]), Currency::KWD)
            .line(Line::new("Support (fils)", dec!(1), dec!(1.234)).item("SUP").gl_account("4010"))
            .build();

    let all = [
        ("intra_community", intra_community),
        ("export_outside_eu", export_outside_eu),
        ("exempt_and_standard", exempt_and_standard),
        ("outside_scope", outside_scope),
        ("domestic_de", domestic_de),
        ("credit_note_unreferenced", credit_note_unreferenced),
        ("adjustment", adjustment),
        ("credit_note_jpy", credit_note_jpy),
        ("japanese_name", japanese_name),
        ("kwd_mills", kwd_mills),
    ];
    all.into_iter()
        .enumerate()
        .map(|(i, (name, mut inv))| {
            inv.id = InvoiceId(101 + i as u64);
            (name, inv)
        })
        .collect()
}

/// The shared fixtures followed by [`extra_fixtures`].
pub fn all_fixtures() -> Vec<(&'static str, Invoice)> {
    let mut all = common::named_fixtures();
    all.extend(extra_fixtures());
    all
}

/// The shared fixture configuration, completed for the e-invoices: Peppol endpoints with valid
/// GLNs for every buyer, an Austrian VAT id for the reverse-charge customer, a seller contact,
/// and buyers for the extra fixtures' customers.
pub fn xml_config() -> Config {
    let mut config = common::fixture_config();
    config.seller_contact =
        Contact { name: Some("Accounts receivable".into()), telephone: Some("+49 30 1234567".into()) };
    if let Some(c002) = config.buyers.get_mut("C002") {
        c002.address = address("Mariahilfer Straße 20", "Wien", "1070", "AT");
        c002.vat_id = Some("ATU12345678".into());
    }
    let extra = [
        ("X001", address("12 rue de Rivoli", "Paris", "75001", "FR"), Some("FR40123456824")),
        ("X002", address("Bahnhofstrasse 10", "Zürich", "8001", "CH"), None),
        ("X003", address("Lindenallee 5", "Hamburg", "20095", "DE"), Some("DE987654321")),
        ("X004", address("Ginza 1-2-3", "Tokyo", "104-0061", "JP"), None),
    ];
    for (id, address, vat) in extra {
        config.buyers.insert(
            id.into(),
            Buyer {
                address,
                vat_id: vat.map(str::to_string),
                endpoint_id: None,
                endpoint_scheme: None,
                reference: Some(format!("PO-{id}")),
            },
        );
    }
    for (i, buyer) in config.buyers.values_mut().enumerate() {
        buyer.endpoint_scheme = Some("0088".into());
        buyer.endpoint_id = Some(gln(i as u64 + 1));
    }
    config
}

/// [`xml_config`] as the configuration of one target: for `qbxml`, tax codes of at most three
/// characters (QuickBooks Desktop sales-tax codes).
pub fn xml_config_for(format: &str) -> Config {
    let mut config = xml_config();
    if format == "qbxml" {
        config.tax_codes.map = [("S:0.19", "V19"), ("S:0.07", "V7"), ("S:0.2", "V20"), ("Z:0", "Z")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        config.tax_codes.fallback = None;
    }
    config
}

/// Collects the documents of a one-document-per-invoice export by invoice number.
#[derive(Default)]
pub struct Collect(pub Vec<(String, Vec<u8>)>);

impl DocumentSink for Collect {
    fn document(&mut self, invoice: &Invoice, bytes: &[u8]) -> std::io::Result<()> {
        self.0.push((invoice.label(), bytes.to_vec()));
        Ok(())
    }
}

/// Export one invoice to `format`: the report and the bytes (a one-file format's whole file,
/// or the invoice's document; empty when nothing was written).
pub fn export_one(format: &dyn Format, config: &Config, invoice: &Invoice) -> (Report, Vec<u8>) {
    match format.layout() {
        Layout::OneFile => {
            let mut out = Vec::new();
            let report = invoice_export::export(format, config, [invoice], &mut out).expect("export to memory");
            (report, out)
        }
        Layout::OnePerInvoice => {
            let mut sink = Collect::default();
            let report = invoice_export::export_documents(format, config, [invoice], &mut sink).expect("export");
            let bytes = sink.0.into_iter().next().map(|(_, b)| b).unwrap_or_default();
            (report, bytes)
        }
    }
}

/// One line per invoice result: outcome and warnings (for the golden report files).
pub fn describe(report: &Report) -> String {
    let mut s = String::new();
    for r in &report.results {
        let outcome = match &r.outcome {
            Outcome::Exported => "exported".to_string(),
            Outcome::Skipped { reason } => format!("skipped: {reason}"),
            Outcome::Failed { message } => format!("failed: {message}"),
        };
        s.push_str(&format!("{}: {outcome}\n", r.number));
        for w in &r.warnings {
            s.push_str(&format!("  warning {}: {}: {}\n", w.code, w.path, w.message));
        }
    }
    s
}

/// The official validators: `$INVOICE_SHARED/validators`, else `<workspace>/../shared/validators`,
/// else `/work/shared/validators`. `Err` says where it looked and what to do.
pub fn validators_dir() -> Result<PathBuf, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("INVOICE_SHARED") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(workspace.join("../shared"));
    candidates.push(PathBuf::from("/work/shared"));
    for dir in &candidates {
        let v = dir.join("validators");
        if v.join("validate").is_file() {
            return Ok(v);
        }
    }
    Err(format!(
        "the official validators (shared/validators/validate) were not found; looked in {}. \
         Set INVOICE_SHARED to the workplace's shared/ directory and run shared/validators/setup once.",
        candidates.iter().map(|p| p.join("validators").display().to_string()).collect::<Vec<_>>().join(", ")
    ))
}
