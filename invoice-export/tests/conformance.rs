//! Conformance of the XML and JSON targets against the official schemas and rule sets in the
//! workplace's `shared/validators` (see its README):
//!
//! - every qbXML request file validates against the qbXML 12.0 XSD (`validate qbxml`);
//! - the XML form of every QuickBooks Online Invoice / CreditMemo (converted from our JSON by
//!   the small converter below) validates against Intuit's v3 XSDs (`validate qbo`);
//! - every UBL document passes the UBL 2.1 XSD, the EN 16931 rules and the Peppol BIS 3.0 rules
//!   (`validate ubl`);
//! - every CII document passes the Factur-X EN16931 XSD and the EN 16931 + Factur-X rules
//!   (`validate cii`).
//!
//! The fixtures are the shared ones plus the e-invoice cases of `common_xml`: credit notes,
//! several tax rates, zero-rated, exempt, reverse-charge, intra-community, export and
//! out-of-scope lines, document-level discounts, non-ASCII names, JPY and KWD.
//!
//! The validators are looked up in `$INVOICE_SHARED/validators`, `<workspace>/../shared/validators`
//! and `/work/shared/validators`; when they are missing the tests fail and say why.

mod common_xml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common_xml::{all_fixtures, export_one, validators_dir, xml_config, xml_config_for};
use invoice_core::{Invoice, Outcome};
use invoice_export::{format, Config};

/// Run `validate KIND FILE...`; panics with the validator's output when a file fails.
fn validate(kind: &str, files: &[PathBuf]) {
    let dir = validators_dir().unwrap_or_else(|why| panic!("{why}"));
    assert!(!files.is_empty(), "no {kind} files to validate");
    let out = Command::new(dir.join("validate"))
        .arg(kind)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", dir.join("validate").display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "`validate {kind}` rejected generated documents (run shared/validators/setup if the tools are missing):\n{text}"
    );
}

/// Run `validate KIND FILE` on a document that must fail.
fn must_fail(kind: &str, file: &Path) -> String {
    let dir = validators_dir().unwrap_or_else(|why| panic!("{why}"));
    let out = Command::new(dir.join("validate")).arg(kind).arg(file).output().expect("run validate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "`validate {kind}` accepted a broken document {}:\n{text}", file.display());
    text
}

fn out_dir(kind: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance").join(kind);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create output directory");
    dir
}

/// The documents written, by case.
type Documents = Vec<(&'static str, Vec<u8>)>;

/// Export every fixture to `format` one by one: the documents written and the outcome of every
/// case.
fn export_all(format_name: &str, config: &Config) -> (Documents, BTreeMap<&'static str, Outcome>) {
    let f = format(format_name).expect("format registered");
    let mut docs = Vec::new();
    let mut outcomes = BTreeMap::new();
    for (case, invoice) in all_fixtures() {
        let (report, bytes) = export_one(f, config, &invoice);
        let outcome = report.results[0].outcome.clone();
        if outcome == Outcome::Exported {
            docs.push((case, bytes));
        }
        outcomes.insert(case, outcome);
    }
    (docs, outcomes)
}

/// The cases that must not be exported, with the code their failure names.
fn assert_outcomes(outcomes: &BTreeMap<&'static str, Outcome>, not_exported: &[(&str, &str)]) {
    for (case, outcome) in outcomes {
        match not_exported.iter().find(|(c, _)| c == case) {
            None => assert_eq!(outcome, &Outcome::Exported, "{case} should be exported"),
            Some((_, expected)) => {
                let text = match outcome {
                    Outcome::Exported => String::new(),
                    Outcome::Skipped { reason } => reason.clone(),
                    Outcome::Failed { message } => message.clone(),
                };
                assert!(text.contains(expected), "{case}: expected '{expected}', got {outcome:?}");
            }
        }
    }
}

fn write_docs(dir: &Path, docs: &[(&str, Vec<u8>)], ext: &str) -> Vec<PathBuf> {
    docs.iter()
        .map(|(case, bytes)| {
            let path = dir.join(format!("{case}.{ext}"));
            std::fs::write(&path, bytes).expect("write document");
            path
        })
        .collect()
}

/// Parse the whole document with quick-xml: it must be well-formed.
fn assert_well_formed(name: &str, bytes: &[u8]) {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth = 0i64;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name} is not well-formed XML: {e}"),
        }
        buf.clear();
    }
    assert_eq!(depth, 0, "{name}: unbalanced elements");
}

#[test]
fn qbxml_requests_pass_the_qbxml_12_schema() {
    let config = xml_config_for("qbxml");
    let (docs, outcomes) = export_all("qbxml", &config);
    assert_outcomes(
        &outcomes,
        &[
            ("no_lines", "Invoice has no lines"),
            ("japanese_name", "unsupported_character"),
            ("credit_note_jpy", "unsupported_character"),
            ("kwd_mills", "unsupported_precision"),
        ],
    );
    for (case, bytes) in &docs {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        assert!(text.chars().all(|c| u32::from(c) <= 0xFF), "{case}: qbXML must be Latin-1 only:\n{text}");
        assert_well_formed(case, bytes);
    }
    let dir = out_dir("qbxml");
    let mut files = write_docs(&dir, &docs, "xml");
    // The whole batch in one request file, as a batch is exported.
    let invoices: Vec<Invoice> = all_fixtures().into_iter().map(|(_, i)| i).collect();
    let mut batch = Vec::new();
    let report =
        invoice_export::export(format("qbxml").expect("qbxml"), &config, &invoices, &mut batch).expect("export");
    assert_eq!(report.counts(), (invoices.len() - 4, 1, 3));
    let batch_file = dir.join("batch.xml");
    std::fs::write(&batch_file, &batch).expect("write batch");
    files.push(batch_file);
    validate("qbxml", &files);
}

#[test]
fn qbo_entities_pass_the_qbo_v3_schema() {
    let config = xml_config();
    let (docs, outcomes) = export_all("qbo-json", &config);
    assert_outcomes(&outcomes, &[("no_lines", "Invoice has no lines"), ("domestic_de", "one discount line")]);
    let dir = out_dir("qbo");
    let fixtures: BTreeMap<&str, Invoice> = all_fixtures().into_iter().collect();
    let mut files = Vec::new();
    for (case, bytes) in &docs {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let root = if fixtures[case].kind.is_credit() { "CreditMemo" } else { "Invoice" };
        let xml =
            qbo_xml::convert(text, root).unwrap_or_else(|e| panic!("{case}: our JSON does not parse: {e}\n{text}"));
        assert_well_formed(case, xml.as_bytes());
        std::fs::write(dir.join(format!("{case}.json")), bytes).expect("write json");
        let path = dir.join(format!("{case}.xml"));
        std::fs::write(&path, xml).expect("write xml");
        files.push(path);
    }
    validate("qbo", &files);
}

#[test]
fn ubl_documents_pass_xsd_en16931_and_peppol_rules() {
    let config = xml_config();
    let (docs, outcomes) = export_all("ubl", &config);
    assert_outcomes(&outcomes, &[("no_lines", "Invoice has no lines"), ("kwd_mills", "unsupported_precision")]);
    for (case, bytes) in &docs {
        assert_well_formed(case, bytes);
    }
    let files = write_docs(&out_dir("ubl"), &docs, "xml");
    validate("ubl", &files);
}

#[test]
fn cii_documents_pass_xsd_en16931_and_factur_x_rules() {
    let config = xml_config();
    let (docs, outcomes) = export_all("cii", &config);
    assert_outcomes(&outcomes, &[("no_lines", "Invoice has no lines"), ("kwd_mills", "unsupported_precision")]);
    for (case, bytes) in &docs {
        assert_well_formed(case, bytes);
    }
    let files = write_docs(&out_dir("cii"), &docs, "xml");
    validate("cii", &files);
}

#[test]
fn intacct_functions_are_well_formed() {
    let config = xml_config();
    let (docs, outcomes) = export_all("intacct", &config);
    assert_outcomes(&outcomes, &[("no_lines", "Invoice has no lines")]);
    for (case, bytes) in &docs {
        assert_well_formed(case, bytes);
    }
}

/// The validators are real: a document with a wrong total, or a RefNumber over 11
/// characters, is refused.
#[test]
fn validators_refuse_broken_documents() {
    let config = xml_config();
    let dir = out_dir("broken");
    let fixtures: BTreeMap<&str, Invoice> = all_fixtures().into_iter().collect();

    let (_, ubl) = export_one(format("ubl").expect("ubl"), &config, &fixtures["multi_rate"]);
    let ubl = String::from_utf8(ubl).expect("UTF-8");
    let payable = "<cbc:PayableAmount currencyID=\"EUR\">";
    let at = ubl.find(payable).expect("PayableAmount") + payable.len();
    let broken = format!("{}9{}", &ubl[..at], &ubl[at..]);
    let path = dir.join("ubl-wrong-total.xml");
    std::fs::write(&path, broken).expect("write");
    assert!(must_fail("ubl", &path).contains("BR-CO-16"));

    let (_, qbxml) = export_one(format("qbxml").expect("qbxml"), &xml_config_for("qbxml"), &fixtures["multi_line"]);
    let broken =
        String::from_utf8(qbxml).expect("UTF-8").replace("<RefNumber>INV-1001<", "<RefNumber>INV-1001-TOO-LONG<");
    let path = dir.join("qbxml-long-ref.xml");
    std::fs::write(&path, broken).expect("write");
    must_fail("qbxml", &path);
}

/// A test-only converter from our QuickBooks Online JSON to the entity's XML form: objects
/// become elements in member order, arrays repeated elements, and an object with a `value`
/// member (a reference or memo) an element with that text and its other members as
/// attributes. Numbers keep their exact text (the parser never turns them into floats).
mod qbo_xml {
    use quick_xml::escape::escape;

    enum Json {
        Str(String),
        Num(String),
        Bool(bool),
        Null,
        Arr(Vec<Json>),
        Obj(Vec<(String, Json)>),
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            }
        }

        fn eat(&mut self, b: u8) -> Result<(), String> {
            self.ws();
            if self.s.get(self.i) == Some(&b) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected '{}' at byte {}", b as char, self.i))
            }
        }

        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut members = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Obj(members));
                    }
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.eat(b':')?;
                        members.push((key, self.value()?));
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Obj(members));
                            }
                            _ => return Err(format!("expected ',' or '}}' at byte {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Arr(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.s.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Arr(items));
                            }
                            _ => return Err(format!("expected ',' or ']' at byte {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Json::Str(self.string()?)),
                Some(b't') if self.s[self.i..].starts_with(b"true") => {
                    self.i += 4;
                    Ok(Json::Bool(true))
                }
                Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                    self.i += 5;
                    Ok(Json::Bool(false))
                }
                Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                    self.i += 4;
                    Ok(Json::Null)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    while self.i < self.s.len()
                        && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    {
                        self.i += 1;
                    }
                    Ok(Json::Num(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()))
                }
                _ => Err(format!("unexpected input at byte {}", self.i)),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            if self.s.get(self.i) != Some(&b'"') {
                return Err(format!("expected a string at byte {}", self.i));
            }
            let start = self.i;
            self.i += 1;
            while self.i < self.s.len() {
                match self.s[self.i] {
                    b'\\' => self.i += 2,
                    b'"' => {
                        self.i += 1;
                        let raw = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                        return serde_json::from_str::<String>(raw).map_err(|e| e.to_string());
                    }
                    _ => self.i += 1,
                }
            }
            Err("unterminated string".into())
        }
    }

    fn scalar(v: &Json) -> Option<String> {
        match v {
            Json::Str(s) | Json::Num(s) => Some(s.clone()),
            Json::Bool(b) => Some(b.to_string()),
            Json::Null => Some(String::new()),
            _ => None,
        }
    }

    fn member(out: &mut String, key: &str, value: &Json) {
        match value {
            Json::Arr(items) => items.iter().for_each(|item| member(out, key, item)),
            Json::Obj(fields) if fields.iter().any(|(k, _)| k == "value") => {
                out.push_str(&format!("<{key}"));
                let mut text = String::new();
                for (k, v) in fields {
                    let v = scalar(v).unwrap_or_default();
                    if k == "value" {
                        text = v;
                    } else {
                        out.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
                    }
                }
                out.push_str(&format!(">{}</{key}>", escape(text.as_str())));
            }
            Json::Obj(fields) => {
                out.push_str(&format!("<{key}>"));
                for (k, v) in fields {
                    member(out, k, v);
                }
                out.push_str(&format!("</{key}>"));
            }
            scalar_value => {
                let text = scalar(scalar_value).unwrap_or_default();
                out.push_str(&format!("<{key}>{}</{key}>", escape(text.as_str())));
            }
        }
    }

    /// The XML form of a QuickBooks Online entity given as JSON, with root element `root`.
    pub fn convert(json: &str, root: &str) -> Result<String, String> {
        let mut p = Parser { s: json.as_bytes(), i: 0 };
        let value = p.value()?;
        p.ws();
        if p.i != json.len() {
            return Err(format!("trailing input at byte {}", p.i));
        }
        let Json::Obj(fields) = value else { return Err("the document is not an object".into()) };
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"http://schema.intuit.com/finance/v3\">"
        );
        for (k, v) in &fields {
            member(&mut out, k, v);
        }
        out.push_str(&format!("</{root}>\n"));
        Ok(out)
    }
}
