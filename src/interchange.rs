//! The interchange format: invoices as JSON Lines, one invoice per line.
//!
//! The fields are those of the workplace's dataset generator (`gen_dataset.py`) plus a few
//! optional ones; `docs/interchange.md` describes them and `docs/interchange.schema.json` is
//! the JSON Schema. Money, quantities and rates are decimal **strings** (`"12.50"`), never JSON
//! numbers, so that nothing passes through floating point.
//!
//! ```json
//! {"number":"INV-2026-000001","kind":"invoice","customer":{"id":"C1","name":"Müller GmbH",
//!  "email":"billing@mueller.example","address_lines":["Hauptstraße 1","10115 Berlin","Germany"]},
//!  "issue_date":"2026-12-01","due_date":"2026-12-31","currency":"EUR","project":"PRJ-1 Web",
//!  "billing_period":{"start":"2026-11-01","end":"2026-11-30"},
//!  "lines":[{"description":"Consulting","quantity":"7.5","unit_price":"120.00","tax_rate":"0.19",
//!            "account":"8400","item":"CONS"}],
//!  "memo":"Thank you","location":"Berlin","invoice_type":"T&M",
//!  "attachments":["receipts/nov.pdf"],"signed_pdf":"signed/INV-2026-000001.pdf"}
//! ```
//!
//! Reading is strict and reports every bad record with its line number, the invoice number
//! (when it has one) and the field: `line 7 (INV-2024-000123): lines[2].quantity: '1,5' is not
//! a decimal number`.
//!
//! ```
//! use invoice_engine::interchange::read_invoices;
//! let text = r#"{"number":"A-1","customer":{"id":"C1","name":"Ann"},"currency":"EUR","issue_date":"2026-11-30","lines":[{"description":"x","quantity":"1","unit_price":"9.99","tax_rate":"0.2"}]}
//! {"number":"A-2","customer":{"id":"C1","name":"Ann"},"currency":"EURO","lines":[]}
//! "#;
//! let read = read_invoices(text.as_bytes()).unwrap();
//! assert_eq!(read.invoices.len(), 1);
//! assert_eq!(read.errors[0].to_string(), "line 2 (A-2): currency: unknown currency code 'EURO' (ISO 4217 codes are three upper-case letters, e.g. EUR)");
//! ```

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;
use invoice_core::hash::QuickMap;
use invoice_core::money::parse_decimal;
use invoice_core::{Attachment, Currency, Customer, Invoice, Kind, Line, LineKind, Period, Totals};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod convert;
mod fast;

pub use convert::{export_jsonl, Converted};

/// One bad record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The invoice number, when the record has one.
    pub number: Option<String>,
    /// The field, e.g. `lines[2].quantity` (`""` for the whole line).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(n) = &self.number {
            write!(f, " ({n})")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// An invoice read from the file, with where it came from and the files it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number.
    pub line: usize,
    /// The invoice (a draft that carries its own number).
    pub invoice: Invoice,
}

/// Everything read from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    /// The good records, in file order.
    pub invoices: Vec<Record>,
    /// Every bad record (each line once, with its first problem).
    pub errors: Vec<RecordError>,
}

/// Read a JSON Lines file of invoices. I/O errors stop the read; bad records are collected
/// in [`Read::errors`] and the good ones returned. Blank lines are ignored. A number seen
/// twice is an error on its second line.
///
/// The whole input is read into memory and its lines are parsed on as many threads as the
/// machine has cores (at most 8); the result does not depend on the number of threads.
pub fn read_invoices(mut reader: impl std::io::Read) -> std::io::Result<Read> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    Ok(parse_invoices(&bytes, threads))
}

/// Parse JSON Lines already in memory on `threads` threads (see [`read_invoices`]).
pub fn parse_invoices(bytes: &[u8], threads: usize) -> Read {
    // Split into chunks of whole lines, each with the number of its first line: several per
    // thread, taken in turn, so that no thread waits for another at the end.
    let threads = threads.max(1);
    let pieces = if threads == 1 || bytes.len() < 1 << 20 { 1 } else { threads * 8 };
    let mut chunks: Vec<(usize, &[u8])> = Vec::with_capacity(pieces);
    let mut rest = bytes;
    let mut first_line = 1;
    for k in (1..=pieces).rev() {
        let mut cut = if k == 1 { rest.len() } else { rest.len() / k };
        while cut < rest.len() && (cut == 0 || rest[cut - 1] != b'\n') {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut.min(rest.len()));
        chunks.push((first_line, chunk));
        first_line += memchr::memchr_iter(b'\n', chunk).count();
        rest = tail;
    }
    // the totals that checking made are not kept (freed where they were made)
    let parse = |first: usize, chunk: &[u8]| parse_chunk_with(first, chunk, |(invoice, _)| invoice);
    let parsed: Vec<Vec<(usize, Checked)>> = if chunks.len() == 1 {
        chunks.iter().map(|&(first, chunk)| parse(first, chunk)).collect()
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut done: Vec<(usize, Vec<(usize, Checked)>)> = std::thread::scope(|scope| {
            let work = || {
                let mut mine = Vec::new();
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(first, chunk)) = chunks.get(k) else { return mine };
                    mine.push((k, parse(first, chunk)));
                }
            };
            let handles: Vec<_> = (0..threads.min(chunks.len())).map(|_| scope.spawn(work)).collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        });
        done.sort_unstable_by_key(|(k, _)| *k);
        done.into_iter().map(|(_, records)| records).collect()
    };
    // A number seen before is an error on its later lines: find those first, borrowing.
    let total: usize = parsed.iter().map(Vec::len).sum();
    let mut first_use: QuickMap<&str, usize> = QuickMap::with_capacity_and_hasher(total, Default::default());
    let mut repeated: Vec<(usize, usize)> = Vec::new(); // (index among the records, first line)
    for (index, (line_no, record)) in parsed.iter().flatten().enumerate() {
        if let Ok(invoice) = record {
            let number = invoice.number.as_deref().unwrap_or_default();
            let first = *first_use.entry(number).or_insert(*line_no);
            if first != *line_no {
                repeated.push((index, first));
            }
        }
    }
    drop(first_use);
    let mut read = Read { invoices: Vec::with_capacity(total - repeated.len()), errors: Vec::new() };
    let mut repeated = repeated.into_iter().peekable();
    for (index, (line_no, record)) in parsed.into_iter().flatten().enumerate() {
        match record {
            Ok(invoice) => match repeated.next_if(|&(i, _)| i == index) {
                Some((_, first)) => read.errors.push(RecordError {
                    line: line_no,
                    number: invoice.number,
                    field: "number".into(),
                    message: format!("the number is used on line {first} already"),
                }),
                None => read.invoices.push(Record { line: line_no, invoice }),
            },
            Err((number, field, message)) => read.errors.push(RecordError { line: line_no, number, field, message }),
        }
    }
    read
}

/// A record read and checked: the invoice with its totals (`None` when they cannot be made),
/// or what is wrong.
type Parsed = Result<(Invoice, Option<Totals>), Problem>;

/// A record read and checked, without its totals.
type Checked = Result<Invoice, Problem>;

/// The records of `chunk`, whose first line is `first`, keeping of each good record what
/// `keep` makes of it (on the parsing thread, so that what it drops is freed there).
fn parse_chunk_with<T>(
    first: usize,
    chunk: &[u8],
    keep: impl Fn((Invoice, Option<Totals>)) -> T,
) -> Vec<(usize, Result<T, Problem>)> {
    let mut out = Vec::with_capacity(chunk.len() / 512 + 1);
    for_each_record(first, chunk, |line, record| out.push((line, record.map(&keep))));
    out
}

/// Hands each record of `chunk`, whose first line is `first`, to `take` with its line
/// number, in order; blank lines are left out.
fn for_each_record(first: usize, chunk: &[u8], mut take: impl FnMut(usize, Parsed)) {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', chunk).chain((!chunk.ends_with(b"\n")).then_some(chunk.len()));
    for (i, end) in ends.enumerate() {
        let line = &chunk[start..end];
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // checked 32 bytes at a time; std's check explains a record that is not UTF-8
        let record = match simdutf8::basic::from_utf8(line) {
            Ok(text) => parse_record(text),
            Err(_) => match std::str::from_utf8(line) {
                Ok(text) => parse_record(text),
                Err(e) => Err((None, String::new(), format!("not UTF-8 text: {e}"))),
            },
        };
        take(first + i, record);
    }
}

type Problem = (Option<String>, String, String);

// ------------------------------------------------------------------ the record's shape

/// One record as JSON gives it: strings where strings belong, nothing converted yet. A
/// record whose JSON types do not fit is explained by [`shape_problem`].
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct RawInvoice<'a> {
    number: Option<String>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    credits: Option<String>,
    corrects: Option<String>,
    customer: Option<RawCustomer>,
    #[serde(borrow)]
    currency: Option<Cow<'a, str>>,
    #[serde(borrow)]
    billing_period: Option<RawPeriod<'a>>,
    #[serde(borrow)]
    lines: Option<Vec<RawLine<'a>>>,
    project: Option<String>,
    location: Option<String>,
    invoice_type: Option<String>,
    memo: Option<String>,
    #[serde(borrow)]
    issue_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    due_date: Option<Cow<'a, str>>,
    attachments: Option<Vec<String>>,
    signed_pdf: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct RawCustomer {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    address_lines: Option<Vec<String>>,
    tax_id: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct RawPeriod<'a> {
    #[serde(borrow)]
    start: Option<Cow<'a, str>>,
    #[serde(borrow)]
    end: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct RawLine<'a> {
    description: Option<String>,
    #[serde(borrow)]
    quantity: Option<Cow<'a, str>>,
    #[serde(borrow)]
    unit_price: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tax_rate: Option<Cow<'a, str>>,
    account: Option<String>,
    item: Option<String>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    service_date: Option<Cow<'a, str>>,
}

/// The JSON type a field must have.
enum Shape {
    /// A string.
    Str,
    /// A decimal, written as a string.
    Decimal,
    /// A list of strings.
    Strings,
    /// An object with these fields (others are ignored).
    Object(&'static [(&'static str, Shape)]),
    /// A list of such objects.
    Objects(&'static [(&'static str, Shape)]),
}

const CUSTOMER: &[(&str, Shape)] = &[
    ("id", Shape::Str),
    ("name", Shape::Str),
    ("email", Shape::Str),
    ("address_lines", Shape::Strings),
    ("tax_id", Shape::Str),
];
const PERIOD: &[(&str, Shape)] = &[("start", Shape::Str), ("end", Shape::Str)];
const LINE: &[(&str, Shape)] = &[
    ("description", Shape::Str),
    ("quantity", Shape::Decimal),
    ("unit_price", Shape::Decimal),
    ("tax_rate", Shape::Decimal),
    ("account", Shape::Str),
    ("item", Shape::Str),
    ("kind", Shape::Str),
    ("service_date", Shape::Str),
];
const INVOICE: &[(&str, Shape)] = &[
    ("number", Shape::Str),
    ("kind", Shape::Str),
    ("credits", Shape::Str),
    ("corrects", Shape::Str),
    ("customer", Shape::Object(CUSTOMER)),
    ("currency", Shape::Str),
    ("billing_period", Shape::Object(PERIOD)),
    ("lines", Shape::Objects(LINE)),
    ("project", Shape::Str),
    ("location", Shape::Str),
    ("invoice_type", Shape::Str),
    ("memo", Shape::Str),
    ("issue_date", Shape::Str),
    ("due_date", Shape::Str),
    ("attachments", Shape::Strings),
    ("signed_pdf", Shape::Str),
];

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The first field of `map` (in `fields` order, depth first) whose JSON type is wrong, with
/// what is wrong. `null` counts as absent everywhere.
fn wrong_type(map: &Map<String, Value>, fields: &[(&str, Shape)], prefix: &str) -> Option<(String, String)> {
    for (name, shape) in fields {
        let Some(v) = map.get(*name).filter(|v| !v.is_null()) else { continue };
        let path = format!("{prefix}{name}");
        let found = || format!("expected {}, found {}", shape.expected(), kind_of(v));
        match (shape, v) {
            (Shape::Str, Value::String(_)) | (Shape::Decimal, Value::String(_)) => {}
            (Shape::Decimal, Value::Number(n)) => {
                return Some((
                    path,
                    format!("{n} is a JSON number; write decimals as strings (\"{n}\") so they stay exact"),
                ))
            }
            (Shape::Object(inner), Value::Object(m)) => {
                if let Some(p) = wrong_type(m, inner, &format!("{path}.")) {
                    return Some(p);
                }
            }
            (Shape::Strings, Value::Array(items)) => {
                if let Some((i, item)) = items.iter().enumerate().find(|(_, item)| !item.is_string()) {
                    return Some((format!("{path}[{i}]"), format!("expected a string, found {}", kind_of(item))));
                }
            }
            (Shape::Objects(inner), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let Value::Object(m) = item else {
                        return Some((format!("{path}[{i}]"), format!("expected an object, found {}", kind_of(item))));
                    };
                    if let Some(p) = wrong_type(m, inner, &format!("{path}[{i}].")) {
                        return Some(p);
                    }
                }
            }
            _ => return Some((path, found())),
        }
    }
    None
}

impl Shape {
    fn expected(&self) -> &'static str {
        match self {
            Shape::Str | Shape::Decimal => "a string",
            Shape::Object(_) => "an object",
            Shape::Strings | Shape::Objects(_) => "a list",
        }
    }
}

/// Why `text` did not deserialize as a record: not JSON, not an object, or the first field
/// of the wrong JSON type.
fn shape_problem(text: &str, error: serde_json::Error) -> Problem {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (None, String::new(), format!("not a JSON object: {e}")),
    };
    let Value::Object(map) = &value else {
        return (None, String::new(), format!("expected a JSON object, found {}", kind_of(&value)));
    };
    let number = match map.get("number") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };
    match wrong_type(map, INVOICE, "") {
        Some((field, message)) => (number, field, message),
        None => (number, String::new(), error.to_string()),
    }
}

// ------------------------------------------------------------------ conversion

fn fail<T>(number: &str, field: impl Into<String>, message: impl Into<String>) -> Result<T, Problem> {
    Err((Some(number.to_string()), field.into(), message.into()))
}

fn decimal(number: &str, field: impl Fn() -> String, value: Option<&str>) -> Result<Decimal, Problem> {
    match value.and_then(quick_decimal) {
        Some(d) => Ok(d),
        None => general_decimal(number, field, value),
    }
}

/// [`decimal`] for what [`quick_decimal`] does not take: every other decimal and every error.
#[cold]
#[inline(never)]
fn general_decimal(number: &str, field: impl Fn() -> String, value: Option<&str>) -> Result<Decimal, Problem> {
    match value {
        None => fail(number, field(), "is missing"),
        Some(s) => parse_decimal(s).or_else(|_| fail(number, field(), format!("'{s}' is not a decimal number"))),
    }
}

/// The usual decimal of a record, as [`parse_decimal`] reads it, without its general parser:
/// digits with at most one `.` between digits, no sign, at most 18 characters (so the
/// mantissa fits 60 bits). `None` for anything else, which `parse_decimal` then reads.
#[inline]
fn quick_decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut mantissa = 0u64;
    // the index just after the `.`, or 0 without one
    let mut after_point = 0;
    for (i, &c) in b.iter().enumerate() {
        let digit = c.wrapping_sub(b'0');
        if digit < 10 {
            mantissa = mantissa * 10 + u64::from(digit);
        } else if c == b'.' && after_point == 0 && i > 0 && i + 1 < b.len() {
            after_point = i + 1;
        } else {
            return None;
        }
    }
    let scale = if after_point == 0 { 0 } else { b.len() - after_point };
    // at most 17 decimals, and a mantissa below 10^18
    Some(Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, false, scale as u32))
}

fn date(number: &str, field: impl Fn() -> String, value: Option<&str>) -> Result<Option<NaiveDate>, Problem> {
    match value {
        None => Ok(None),
        Some(s) => match parse_date(s) {
            Some(d) => Ok(Some(d)),
            None => not_a_date(number, field, s),
        },
    }
}

/// The error of [`date`].
#[cold]
#[inline(never)]
fn not_a_date(number: &str, field: impl Fn() -> String, s: &str) -> Result<Option<NaiveDate>, Problem> {
    fail(number, field(), format!("'{s}' is not a date (YYYY-MM-DD)"))
}

/// `YYYY-MM-DD`, exactly.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| u32::from(b[i].wrapping_sub(b'0'));
    let digits = [d(0), d(1), d(2), d(3), d(5), d(6), d(8), d(9)];
    if digits.iter().any(|&x| x > 9) {
        return None;
    }
    let year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
    // at most 9999: fits an i32
    NaiveDate::from_ymd_opt(year as i32, digits[4] * 10 + digits[5], digits[6] * 10 + digits[7])
}

fn attachment(path: String) -> Attachment {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
    Attachment { name, location: path }
}

fn parse_record(text: &str) -> Parsed {
    if let Some(raw) = fast::raw_invoice(text) {
        return convert(raw);
    }
    match serde_json::from_str::<RawInvoice<'_>>(text) {
        Ok(raw) => convert(raw),
        Err(e) => Err(shape_problem(text, e)),
    }
}

fn convert(raw: RawInvoice<'_>) -> Parsed {
    let number = match raw.number {
        Some(s) if !s.trim().is_empty() => s,
        _ => return Err((None, "number".into(), "is missing".into())),
    };
    let n = number.as_str();
    let kind = match raw.kind.as_deref().unwrap_or("invoice") {
        "invoice" => Kind::Invoice,
        "credit_note" => Kind::CreditNote { credits: raw.credits },
        "adjustment" => match raw.corrects {
            Some(corrects) => Kind::Adjustment { corrects },
            None => return fail(n, "corrects", "is missing"),
        },
        other => return fail(n, "kind", format!("'{other}' is not one of invoice, credit_note, adjustment")),
    };
    let Some(c) = raw.customer else { return fail(n, "customer", "is missing") };
    let Some(id) = c.id else { return fail(n, "customer.id", "is missing") };
    let Some(name) = c.name else { return fail(n, "customer.name", "is missing") };
    let customer =
        Customer { id, name, email: c.email, address_lines: c.address_lines.unwrap_or_default(), tax_id: c.tax_id };
    let Some(currency_code) = raw.currency else { return fail(n, "currency", "is missing") };
    let currency: Currency =
        currency_code.parse().or_else(|e: invoice_core::Error| fail(n, "currency", e.to_string()))?;
    let billing_period = match raw.billing_period {
        None => None,
        Some(p) => {
            let start = date(n, || "billing_period.start".into(), p.start.as_deref())?;
            let end = date(n, || "billing_period.end".into(), p.end.as_deref())?;
            let (Some(start), Some(end)) = (start, end) else {
                return fail(n, "billing_period.start", "a billing period needs both start and end");
            };
            Some(Period::new(start, end))
        }
    };
    let raw_lines = raw.lines.unwrap_or_default();
    let mut lines = Vec::with_capacity(raw_lines.len());
    for (i, l) in raw_lines.into_iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        let Some(description) = l.description else { return fail(n, at("description"), "is missing") };
        let quantity = decimal(n, || at("quantity"), l.quantity.as_deref())?;
        let unit_price = decimal(n, || at("unit_price"), l.unit_price.as_deref())?;
        let tax_rate = match l.tax_rate.as_deref() {
            None => Decimal::ZERO,
            some => decimal(n, || at("tax_rate"), some)?,
        };
        let mut line = Line::new(description, quantity, unit_price).tax_rate(tax_rate);
        line.item = l.item;
        line.gl_account = l.account;
        line.service_date = date(n, || at("service_date"), l.service_date.as_deref())?;
        if let Some(k) = l.kind.as_deref() {
            line.kind = match k {
                "service" => LineKind::Service,
                "expense" => LineKind::Expense,
                "milestone" => LineKind::Milestone,
                "deferred_revenue" => LineKind::DeferredRevenue,
                "discount" => LineKind::Discount,
                other => {
                    return fail(
                        n,
                        at("kind"),
                        format!("'{other}' is not one of service, expense, milestone, deferred_revenue, discount"),
                    )
                }
            };
        }
        lines.push(line);
    }
    let issue_date = date(n, || "issue_date".into(), raw.issue_date.as_deref())?;
    let due_date = date(n, || "due_date".into(), raw.due_date.as_deref())?;
    let mut invoice = Invoice::builder(customer, currency).number(number).kind(kind).lines(lines).build();
    invoice.project = raw.project.filter(|p| !p.is_empty());
    invoice.location = raw.location.filter(|p| !p.is_empty());
    invoice.invoice_type = raw.invoice_type.filter(|p| !p.is_empty());
    invoice.billing_period = billing_period;
    invoice.issue_date = issue_date;
    invoice.due_date = due_date;
    invoice.memo = raw.memo.unwrap_or_default();
    invoice.attachments = raw.attachments.unwrap_or_default().into_iter().map(attachment).collect();
    invoice.signed_document = raw.signed_pdf.map(attachment);
    // The engine's own checks, reported the same way; the totals they make are kept for a
    // caller that renders the invoice next.
    let (violations, totals) = invoice.validate_and_total();
    if let Some(v) = violations.into_iter().next() {
        return Err((Some(invoice.label()), v.path, v.message));
    }
    Ok((invoice, totals.ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        read_invoices(text.as_bytes()).unwrap().errors.iter().map(|e| e.to_string()).collect()
    }

    pub(crate) const GOOD: &str = r#"{"number":"N-1","customer":{"id":"C1","name":"Zoë"},"currency":"JPY","lines":[{"description":"d","quantity":"2","unit_price":"100","tax_rate":"0.1"}]}"#;

    #[test]
    fn broken_records_name_line_number_and_field() {
        let text = [
            GOOD,
            r#"{"number":"N-2","customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[{"description":"d","quantity":"1,5","unit_price":"1","tax_rate":"0"}]}"#,
            r#"{"number":"N-3","customer":{"id":"C1","name":"Z"},"currency":"XXX","lines":[]}"#,
            r#"{"customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[]}"#,
            GOOD,
            r#"{"number":"N-6","customer":{"id":"C1","name":"Z"},"currency":"EUR","issue_date":"2026-02-30","lines":[]}"#,
            r#"not json"#,
            r#"{"number":"N-8","customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[{"description":"d","quantity":1.5,"unit_price":"1"}]}"#,
            r#"{"number":"N-9","customer":{"id":"C1","name":"Z"},"currency":"JPY","lines":[{"description":"d","quantity":"1","unit_price":"-1"}]}"#,
        ]
        .join("\n");
        let errs = errors(&text);
        assert_eq!(errs[0], "line 2 (N-2): lines[0].quantity: '1,5' is not a decimal number");
        assert!(errs[1].starts_with("line 3 (N-3): currency: unknown currency code 'XXX'"), "{}", errs[1]);
        assert_eq!(errs[2], "line 4: number: is missing");
        assert_eq!(errs[3], "line 5 (N-1): number: the number is used on line 1 already");
        assert_eq!(errs[4], "line 6 (N-6): issue_date: '2026-02-30' is not a date (YYYY-MM-DD)");
        assert!(errs[5].starts_with("line 7: not a JSON object"), "{}", errs[5]);
        assert!(errs[6].starts_with("line 8 (N-8): lines[0].quantity: 1.5 is a JSON number"), "{}", errs[6]);
        assert!(errs[7].starts_with("line 9 (N-9): lines[0].unit_price: unit price -1 is negative"), "{}", errs[7]);
        assert_eq!(errs.len(), 8);
    }

    #[test]
    fn records_that_are_not_utf8_are_explained() {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.push(b'\n');
        // a lone continuation byte inside a record, then a record ending in a cut two-byte
        // sequence
        bytes.extend_from_slice(&GOOD.as_bytes()[..40]);
        bytes.push(0x80);
        bytes.extend_from_slice(&GOOD.as_bytes()[40..]);
        bytes.push(b'\n');
        bytes.extend_from_slice(GOOD.replace("N-1", "N-3").as_bytes());
        bytes.extend_from_slice(&[0xc3]);
        let read = read_invoices(bytes.as_slice()).unwrap();
        let errs: Vec<String> = read.errors.iter().map(|e| e.to_string()).collect();
        let cut = GOOD.len();
        assert_eq!(
            errs,
            [
                "line 2: not UTF-8 text: invalid utf-8 sequence of 1 bytes from index 40".to_string(),
                format!("line 3: not UTF-8 text: incomplete utf-8 byte sequence from index {cut}"),
            ],
            "{errs:?}"
        );
        assert_eq!(read.invoices.len(), 1);
    }

    #[test]
    fn wrong_json_types_name_the_field() {
        let text = [
            r#"{"number":7,"customer":{"id":"C1","name":"Z"},"currency":"EUR"}"#,
            r#"{"number":"N-2","customer":"Z","currency":"EUR"}"#,
            r#"{"number":"N-3","customer":{"id":"C1","name":"Z","address_lines":["a",2]},"currency":"EUR"}"#,
            r#"{"number":"N-4","customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[{"description":"d","quantity":"1","unit_price":"1"},"x"]}"#,
            r#"{"number":"N-5","customer":{"id":"C1","name":"Z"},"currency":"EUR","billing_period":{"start":20261101,"end":"2026-11-30"}}"#,
            r#"[1,2]"#,
            r#"{"number":"N-7","customer":{"id":"C1","name":"Z"},"currency":"EUR","lines":[{"description":"d","quantity":"1","unit_price":"1","tax_rate":null}],"memo":null}"#,
        ]
        .join("\n");
        let errs = errors(&text);
        assert_eq!(errs[0], "line 1: number: expected a string, found a number");
        assert_eq!(errs[1], "line 2 (N-2): customer: expected an object, found a string");
        assert_eq!(errs[2], "line 3 (N-3): customer.address_lines[1]: expected a string, found a number");
        assert_eq!(errs[3], "line 4 (N-4): lines[1]: expected an object, found a string");
        assert_eq!(errs[4], "line 5 (N-5): billing_period.start: expected a string, found a number");
        assert_eq!(errs[5], "line 6: expected a JSON object, found a list");
        assert_eq!(errs.len(), 6, "null is absent: {errs:?}");
    }

    #[test]
    fn the_result_does_not_depend_on_the_number_of_threads() {
        let mut text = String::new();
        for i in 0..10000 {
            match i % 7 {
                0 => text.push('\n'),
                1 => text.push_str("not json\r\n"),
                2 => text.push_str(GOOD),
                _ => text.push_str(&GOOD.replace("N-1", &format!("N-{i}"))),
            }
            text.push('\n');
        }
        let one = parse_invoices(text.as_bytes(), 1);
        assert!(text.len() > 1 << 20 && one.invoices.len() > 4000 && one.errors.len() > 2000);
        assert_eq!(one.errors[0].to_string().split(':').next(), Some("line 3"));
        for threads in [2, 3, 8, 1000] {
            assert_eq!(parse_invoices(text.as_bytes(), threads), one, "{threads} threads");
        }
        assert_eq!(parse_invoices(b"", 4), Read::default());
        assert_eq!(parse_invoices(GOOD.as_bytes(), 4).invoices.len(), 1);
    }

    /// `YYYY-MM-DD` as the reader read it before [`parse_date`] took its digits directly.
    fn parse_date_by_ranges(s: &str) -> Option<NaiveDate> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
    }

    proptest::proptest! {
        #[test]
        fn quick_decimals_are_those_of_parse_decimal(s in "[-+0-9.e ]{0,20}|[0-9]{1,12}(\\.[0-9]{1,9})?|.{0,8}") {
            if let Some(d) = quick_decimal(&s) {
                let general = parse_decimal(&s).unwrap();
                proptest::prop_assert_eq!((d.mantissa(), d.scale()), (general.mantissa(), general.scale()), "{:?}", s);
            }
        }

        #[test]
        fn dates_read_as_before(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9/ +-]{10}|.{0,11}") {
            proptest::prop_assert_eq!(parse_date(&s), parse_date_by_ranges(&s), "{:?}", s);
        }
    }

    #[test]
    fn quick_decimals_take_the_usual_forms() {
        for s in ["0", "14", "9.75", "0.08", "1025.78", "000.10", "123456789012345678", "1234567890123456.7"] {
            let d = quick_decimal(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(d, parse_decimal(s).unwrap());
            assert_eq!(d.to_string(), parse_decimal(s).unwrap().to_string());
        }
        for s in ["", ".5", "5.", "1.2.3", "-1", "+1", "1e5", "1,5", " 1", "1234567890123456789", "٣"] {
            assert_eq!(quick_decimal(s), None, "{s}");
        }
        assert_eq!(decimal("N", || "q".into(), Some("1,5")).unwrap_err().2, "'1,5' is not a decimal number");
        assert_eq!(decimal("N", || "q".into(), None).unwrap_err().2, "is missing");
        assert_eq!(decimal("N", || "q".into(), Some("-1.50")), Ok(rust_decimal_macros::dec!(-1.50)));
    }

    #[test]
    fn reads_every_field() {
        let text = r#"{"number":"CN-1","kind":"credit_note","credits":"INV-9","customer":{"id":"C1","name":"Ødegård AS","email":"a@b.no","address_lines":["Storgata 1","0150 Oslo","Norway"],"tax_id":"NO999"},"issue_date":"2026-12-01","due_date":"2026-12-15","currency":"NOK","project":"P","billing_period":{"start":"2026-11-01","end":"2026-11-30"},"lines":[{"description":"Down payment","quantity":"1","unit_price":"500.00","tax_rate":"0.25","account":"8400","item":"DP","kind":"deferred_revenue","service_date":"2026-11-03"}],"memo":"m","location":"Oslo","invoice_type":"retainer","attachments":["a/b/receipt.pdf"],"signed_pdf":"s.pdf"}"#;
        let read = read_invoices(text.as_bytes()).unwrap();
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let inv = &read.invoices[0].invoice;
        assert_eq!(inv.kind, Kind::CreditNote { credits: Some("INV-9".into()) });
        assert_eq!(inv.customer.address_lines.len(), 3);
        assert_eq!(inv.lines[0].kind, LineKind::DeferredRevenue);
        assert_eq!(inv.lines[0].gl_account.as_deref(), Some("8400"));
        assert_eq!(inv.attachments[0], Attachment { name: "receipt.pdf".into(), location: "a/b/receipt.pdf".into() });
        assert_eq!(inv.totals().unwrap().gross.to_string(), "625.00");
        assert_eq!((inv.location.as_deref(), inv.invoice_type.as_deref()), (Some("Oslo"), Some("retainer")));
    }
}
