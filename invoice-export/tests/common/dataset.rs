//! The benchmark data set of `../shared/bench/gen_dataset.py` as core invoices.
//!
//! [`load`] runs the generator once per (N, seed) into `CARGO_TARGET_TMPDIR/datasets/` and
//! parses the JSON Lines with [`parse_jsonl`]: `kind`/`credits` become [`Kind`], the billing
//! period a [`Period`], each line's `account` its `gl_account`; decimals are parsed exactly with
//! [`parse_decimal`]. Ids are 1.. in file order.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use invoice_core::money::parse_decimal;
use invoice_core::{Currency, Customer, Invoice, InvoiceId, Kind, Line, Period};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
struct RawCustomer {
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address_lines: Vec<String>,
}

#[derive(Deserialize)]
struct RawPeriod {
    start: String,
    end: String,
}

#[derive(Deserialize)]
struct RawLine {
    description: String,
    quantity: String,
    unit_price: String,
    tax_rate: String,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    item: Option<String>,
}

#[derive(Deserialize)]
struct RawInvoice {
    number: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    credits: Option<String>,
    customer: RawCustomer,
    issue_date: String,
    due_date: String,
    currency: String,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    billing_period: Option<RawPeriod>,
    #[serde(default)]
    lines: Vec<RawLine>,
    #[serde(default)]
    memo: String,
}

/// The shared directory of the workplace: `$INVOICE_SHARED`, else `../shared` beside the
/// workspace root, else `/work/shared`. Panics with the places it looked when none exists.
pub fn shared_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut tried = Vec::new();
    if let Some(dir) = std::env::var_os("INVOICE_SHARED") {
        let dir = PathBuf::from(dir);
        if dir.join("bench/gen_dataset.py").is_file() {
            return dir;
        }
        tried.push(dir);
    }
    for dir in [workspace.join("../shared"), PathBuf::from("/work/shared")] {
        if dir.join("bench/gen_dataset.py").is_file() {
            return dir;
        }
        tried.push(dir);
    }
    panic!(
        "the shared directory with bench/gen_dataset.py was not found (looked in {}); \
         set INVOICE_SHARED to the directory that holds bench/gen_dataset.py",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
}

/// The path of `gen_dataset.py N SEED`'s output, generated on first use (atomically, so test
/// binaries running side by side do not see a half-written file).
pub fn generate(n: usize, seed: u64) -> PathBuf {
    let script = shared_dir().join("bench/gen_dataset.py");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("datasets");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(format!("invoices-{n}-{seed}.jsonl"));
    let fresh = |p: &Path| -> bool {
        let (Ok(out), Ok(src)) = (std::fs::metadata(p), std::fs::metadata(&script)) else { return false };
        match (out.modified(), src.modified()) {
            (Ok(o), Ok(s)) => o >= s && out.len() > 0,
            _ => false,
        }
    };
    if fresh(&path) {
        return path;
    }
    let tmp = dir.join(format!("invoices-{n}-{seed}.jsonl.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&tmp).unwrap_or_else(|e| panic!("cannot create {}: {e}", tmp.display()));
    let status = Command::new("python3")
        .arg(&script)
        .arg(n.to_string())
        .arg(seed.to_string())
        .stdout(file)
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e} (python3 is needed for this test)", script.display()));
    assert!(status.success(), "python3 {} {n} {seed} failed: {status}", script.display());
    std::fs::rename(&tmp, &path).unwrap_or_else(|e| panic!("cannot rename {}: {e}", tmp.display()));
    path
}

/// `gen_dataset.py N SEED` as invoices (generated and cached on first use).
pub fn load(n: usize, seed: u64) -> Vec<Invoice> {
    let path = generate(n, seed);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    parse_jsonl(std::io::BufReader::new(file)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parse the data set's JSON Lines into invoices (ids 1.. in order). Errors name the line.
pub fn parse_jsonl(reader: impl BufRead) -> Result<Vec<Invoice>, String> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let raw: RawInvoice = serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let mut invoice = convert(raw).map_err(|e| format!("line {}: {e}", i + 1))?;
        invoice.id = InvoiceId(out.len() as u64 + 1);
        out.push(invoice);
    }
    Ok(out)
}

fn decimal(s: &str, field: &str) -> Result<Decimal, String> {
    parse_decimal(s).map_err(|e| format!("{field}: {e}"))
}

fn date(s: &str, field: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("{field}: '{s}': {e}"))
}

fn convert(raw: RawInvoice) -> Result<Invoice, String> {
    let currency: Currency = raw.currency.parse().map_err(|e| format!("currency: {e}"))?;
    let credit = match raw.kind.as_deref() {
        None | Some("invoice") => false,
        Some("credit_note") => true,
        Some(other) => return Err(format!("kind: unknown kind '{other}'")),
    };
    let mut customer = Customer::new(raw.customer.id, raw.customer.name);
    customer.email = raw.customer.email;
    customer.address_lines = raw.customer.address_lines;
    let mut builder = Invoice::builder(customer, currency)
        .number(raw.number)
        .issue_date(date(&raw.issue_date, "issue_date")?)
        .due_date(date(&raw.due_date, "due_date")?)
        .memo(raw.memo);
    if credit {
        builder = builder.kind(Kind::CreditNote { credits: raw.credits });
    }
    if let Some(project) = raw.project.filter(|p| !p.is_empty()) {
        builder = builder.project(project);
    }
    if let Some(p) = raw.billing_period {
        builder = builder
            .billing_period(Period::new(date(&p.start, "billing_period.start")?, date(&p.end, "billing_period.end")?));
    }
    for (i, l) in raw.lines.into_iter().enumerate() {
        let mut quantity = decimal(&l.quantity, &format!("lines[{i}].quantity"))?;
        // The schema notes once mention negative credit-note quantities; the engine's credit
        // notes carry positive amounts, so a negative quantity on a credit note is flipped.
        if credit && quantity.is_sign_negative() {
            quantity = -quantity;
        }
        let mut line = Line::new(l.description, quantity, decimal(&l.unit_price, &format!("lines[{i}].unit_price"))?)
            .tax_rate(decimal(&l.tax_rate, &format!("lines[{i}].tax_rate"))?);
        if let Some(a) = l.account {
            line = line.gl_account(a);
        }
        if let Some(item) = l.item {
            line = line.item(item);
        }
        builder = builder.line(line);
    }
    Ok(builder.build())
}
