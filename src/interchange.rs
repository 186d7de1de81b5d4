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

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use chrono::NaiveDate;
use invoice_core::money::parse_decimal;
use invoice_core::{Attachment, Currency, Customer, Invoice, Kind, Line, LineKind, Period};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
pub fn read_invoices(reader: impl BufRead) -> std::io::Result<Read> {
    let mut read = Read::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let text = line?;
        if text.trim().is_empty() {
            continue;
        }
        match parse_record(&text) {
            Ok(invoice) => {
                let number = invoice.number.clone().unwrap_or_default();
                if let Some(first) = seen.get(&number) {
                    read.errors.push(RecordError {
                        line: line_no,
                        number: Some(number),
                        field: "number".into(),
                        message: format!("the number is used on line {first} already"),
                    });
                    continue;
                }
                seen.insert(number, line_no);
                read.invoices.push(Record { line: line_no, invoice });
            }
            Err((number, field, message)) => read.errors.push(RecordError { line: line_no, number, field, message }),
        }
    }
    Ok(read)
}

type Problem = (Option<String>, String, String);

/// Reads the fields of one JSON object, naming the field in every error.
struct Fields<'a> {
    number: Option<String>,
    prefix: String,
    map: &'a serde_json::Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn fail<T>(&self, field: &str, message: impl Into<String>) -> Result<T, Problem> {
        Err((self.number.clone(), format!("{}{field}", self.prefix), message.into()))
    }

    fn opt_str(&self, field: &str) -> Result<Option<&'a str>, Problem> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => self.fail(field, format!("expected a string, found {}", kind_of(other))),
        }
    }

    fn str(&self, field: &str) -> Result<&'a str, Problem> {
        match self.opt_str(field)? {
            Some(s) => Ok(s),
            None => self.fail(field, "is missing"),
        }
    }

    fn decimal(&self, field: &str) -> Result<Decimal, Problem> {
        match self.map.get(field) {
            Some(Value::Number(n)) => self
                .fail(field, format!("{n} is a JSON number; write decimals as strings (\"{n}\") so they stay exact")),
            _ => {
                let s = self.str(field)?;
                parse_decimal(s).or_else(|_| self.fail(field, format!("'{s}' is not a decimal number")))
            }
        }
    }

    fn date(&self, field: &str) -> Result<Option<NaiveDate>, Problem> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .or_else(|_| self.fail(field, format!("'{s}' is not a date (YYYY-MM-DD)"))),
        }
    }

    fn object(&self, field: &str) -> Result<Option<Fields<'a>>, Problem> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => {
                Ok(Some(Fields { number: self.number.clone(), prefix: format!("{}{field}.", self.prefix), map: m }))
            }
            Some(other) => self.fail(field, format!("expected an object, found {}", kind_of(other))),
        }
    }

    fn array(&self, field: &str) -> Result<&'a [Value], Problem> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => self.fail(field, format!("expected a list, found {}", kind_of(other))),
        }
    }

    fn strings(&self, field: &str) -> Result<Vec<String>, Problem> {
        let mut out = Vec::new();
        for (i, v) in self.array(field)?.iter().enumerate() {
            match v {
                Value::String(s) => out.push(s.clone()),
                other => {
                    return self.fail(&format!("{field}[{i}]"), format!("expected a string, found {}", kind_of(other)))
                }
            }
        }
        Ok(out)
    }
}

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

fn attachment(path: String) -> Attachment {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
    Attachment { name, location: path }
}

fn parse_record(text: &str) -> Result<Invoice, Problem> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| (None, String::new(), format!("not a JSON object: {e}")))?;
    let Value::Object(map) = &value else {
        return Err((None, String::new(), format!("expected a JSON object, found {}", kind_of(&value))));
    };
    let number = match map.get("number") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err((None, "number".into(), "is missing".into())),
        Some(other) => return Err((None, "number".into(), format!("expected a string, found {}", kind_of(other)))),
    };
    let f = Fields { number: Some(number.clone()), prefix: String::new(), map };
    let kind = match f.opt_str("kind")?.unwrap_or("invoice") {
        "invoice" => Kind::Invoice,
        "credit_note" => Kind::CreditNote { credits: f.opt_str("credits")?.map(String::from) },
        "adjustment" => Kind::Adjustment { corrects: f.str("corrects")?.to_string() },
        other => return f.fail("kind", format!("'{other}' is not one of invoice, credit_note, adjustment")),
    };
    let Some(c) = f.object("customer")? else { return f.fail("customer", "is missing") };
    let customer = Customer {
        id: c.str("id")?.to_string(),
        name: c.str("name")?.to_string(),
        email: c.opt_str("email")?.map(String::from),
        address_lines: c.strings("address_lines")?,
        tax_id: c.opt_str("tax_id")?.map(String::from),
    };
    let currency_code = f.str("currency")?;
    let currency: Currency =
        currency_code.parse().or_else(|e: invoice_core::Error| f.fail("currency", e.to_string()))?;
    let billing_period = match f.object("billing_period")? {
        None => None,
        Some(p) => {
            let (Some(start), Some(end)) = (p.date("start")?, p.date("end")?) else {
                return p.fail("start", "a billing period needs both start and end");
            };
            Some(Period::new(start, end))
        }
    };
    let mut lines = Vec::new();
    for (i, v) in f.array("lines")?.iter().enumerate() {
        let Value::Object(m) = v else {
            return f.fail(&format!("lines[{i}]"), format!("expected an object, found {}", kind_of(v)));
        };
        let l = Fields { number: Some(number.clone()), prefix: format!("lines[{i}]."), map: m };
        let mut line = Line::new(l.str("description")?, l.decimal("quantity")?, l.decimal("unit_price")?)
            .tax_rate(if m.contains_key("tax_rate") { l.decimal("tax_rate")? } else { Decimal::ZERO });
        line.item = l.opt_str("item")?.map(String::from);
        line.gl_account = l.opt_str("account")?.map(String::from);
        line.service_date = l.date("service_date")?;
        if let Some(k) = l.opt_str("kind")? {
            line.kind = match k {
                "service" => LineKind::Service,
                "expense" => LineKind::Expense,
                "milestone" => LineKind::Milestone,
                "deferred_revenue" => LineKind::DeferredRevenue,
                "discount" => LineKind::Discount,
                other => {
                    return l.fail(
                        "kind",
                        format!("'{other}' is not one of service, expense, milestone, deferred_revenue, discount"),
                    )
                }
            };
        }
        lines.push(line);
    }
    let mut invoice = Invoice::builder(customer, currency).number(number).kind(kind).lines(lines).build();
    invoice.project = f.opt_str("project")?.filter(|p| !p.is_empty()).map(String::from);
    invoice.location = f.opt_str("location")?.filter(|p| !p.is_empty()).map(String::from);
    invoice.invoice_type = f.opt_str("invoice_type")?.filter(|p| !p.is_empty()).map(String::from);
    invoice.billing_period = billing_period;
    invoice.issue_date = f.date("issue_date")?;
    invoice.due_date = f.date("due_date")?;
    invoice.memo = f.opt_str("memo")?.unwrap_or_default().to_string();
    invoice.attachments = f.strings("attachments")?.into_iter().map(attachment).collect();
    invoice.signed_document = f.opt_str("signed_pdf")?.map(|s| attachment(s.to_string()));
    // The engine's own checks, reported the same way.
    if let Some(v) = invoice.validate().into_iter().next() {
        return Err((Some(invoice.label()), v.path, v.message));
    }
    Ok(invoice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        read_invoices(text.as_bytes()).unwrap().errors.iter().map(|e| e.to_string()).collect()
    }

    const GOOD: &str = r#"{"number":"N-1","customer":{"id":"C1","name":"Zoë"},"currency":"JPY","lines":[{"description":"d","quantity":"2","unit_price":"100","tax_rate":"0.1"}]}"#;

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
