//! A direct reader for records of the usual shape.
//!
//! [`raw_invoice`] reads a record straight from its bytes into the same [`RawInvoice`] that
//! serde_json gives, without serde's visitors and without any intermediate value. It takes
//! only what it is sure of: objects of the known fields, each at most once; strings (with
//! any escape JSON allows); lists; `null`; JSON whitespace. For anything else (a number, a
//! boolean, an unknown or repeated field, an escaped key, a lone surrogate, a syntax error)
//! it answers `None`, and the caller reads the record with serde_json, which then gives the
//! result or the error. So a record reads the same whichever reader took it; the tests
//! compare the two on the data set and on many broken variants of it.

use std::borrow::Cow;

use super::{RawCustomer, RawInvoice, RawLine, RawPeriod};

/// `text` as a record, or `None` when serde_json should read it.
pub(super) fn raw_invoice(text: &str) -> Option<RawInvoice<'_>> {
    let mut c = Cursor { text, bytes: text.as_bytes(), pos: 0 };
    c.ws();
    let raw = c.invoice()?;
    c.ws();
    (c.pos == c.bytes.len()).then_some(raw)
}

/// A field name as the reader looks for it: after the previous field's value (`,"number":`)
/// and as the first field (`"number":`). Records usually give their fields in the same order
/// and without spaces, so the next field is most often found with one [`Pattern::starts`].
struct Name {
    /// The name alone (`number`).
    bare: &'static [u8],
    /// `"number":`
    first: Pattern,
    /// `,"number":`
    next: Pattern,
}

impl Name {
    /// `bare` is at most 21 bytes.
    const fn new(bare: &'static [u8]) -> Name {
        Name { bare, first: Pattern::new(bare, false), next: Pattern::new(bare, true) }
    }
}

/// At most 24 bytes, with the same bytes as three little-endian words, so that they can be
/// recognised with three loads and compares instead of a `memcmp` call.
struct Pattern {
    bytes: [u8; 24],
    len: usize,
    words: [u64; 3],
    masks: [u64; 3],
}

impl Pattern {
    /// `"bare":`, after a `,` when `comma`.
    const fn new(bare: &[u8], comma: bool) -> Pattern {
        let mut bytes = [0u8; 24];
        let mut len = 0;
        if comma {
            bytes[0] = b',';
            len = 1;
        }
        bytes[len] = b'"';
        len += 1;
        let mut i = 0;
        while i < bare.len() {
            bytes[len] = bare[i];
            len += 1;
            i += 1;
        }
        bytes[len] = b'"';
        bytes[len + 1] = b':';
        len += 2;
        let mut words = [0u64; 3];
        let mut masks = [0u64; 3];
        let mut i = 0;
        while i < len {
            words[i / 8] |= (bytes[i] as u64) << (8 * (i % 8));
            masks[i / 8] |= 0xff << (8 * (i % 8));
            i += 1;
        }
        Pattern { bytes, len, words, masks }
    }

    /// Whether `rest` starts with the pattern.
    #[inline(always)]
    fn starts(&self, rest: &[u8]) -> bool {
        match rest.first_chunk::<24>() {
            Some(head) => {
                let word = |i: usize| {
                    let mut w = [0; 8];
                    w.copy_from_slice(&head[8 * i..8 * i + 8]);
                    (u64::from_le_bytes(w) ^ self.words[i]) & self.masks[i]
                };
                word(0) | word(1) | word(2) == 0
            }
            None => rest.starts_with(&self.bytes[..self.len]),
        }
    }
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

/// Eight copies of `b`.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The bytes of the eight in `x` (read little-endian) that are `"`, `\` or below 0x20 (the
/// bytes a string's plain copy stops at), as their high bits. Bits above the first such byte
/// may be set wrongly (a borrow carries over), so only the lowest set bit is exact: the first
/// such byte is byte `mask.trailing_zeros() / 8`.
fn special(x: u64) -> u64 {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let zero = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
    // Bytes below 0x20: subtracting 0x20 borrows into the high bit only for them (bytes of
    // 0x80 and above are excluded by `!x`).
    let control = x.wrapping_sub(splat(0x20)) & !x & HIGH;
    zero(x ^ splat(b'"')) | zero(x ^ splat(b'\\')) | control
}

impl<'a> Cursor<'a> {
    #[inline]
    fn ws(&mut self) {
        // every JSON space is at most 0x20; most places have none
        if self.bytes.get(self.pos).is_some_and(|&b| b > b' ') {
            return;
        }
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    /// `null`, taken when it is next.
    fn null(&mut self) -> bool {
        let hit = self.bytes[self.pos..].starts_with(b"null");
        self.pos += if hit { 4 } else { 0 };
        hit
    }

    /// Moves `pos` to the next `"`, `\` or control byte (or the end).
    fn plain_run(&mut self) {
        let b = self.bytes;
        let mut i = self.pos;
        while let Some(chunk) = b.get(i..i + 8) {
            let mask = special(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
            if mask != 0 {
                self.pos = i + (mask.trailing_zeros() / 8) as usize;
                return;
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        self.pos = i;
    }

    /// A string value (at its opening quote).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        self.string_after_quote()
    }

    /// A string value, after its opening quote.
    #[inline]
    fn string_after_quote(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos;
        self.plain_run();
        if self.peek()? == b'"' {
            let s = self.text.get(start..self.pos)?;
            self.pos += 1;
            Some(Cow::Borrowed(s))
        } else {
            self.escaped_string(start)
        }
    }

    /// The rest of a string that starts at `start` and has an escape (or a control byte) at
    /// `pos`.
    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self, start: usize) -> Option<Cow<'a, str>> {
        if self.peek()? != b'\\' {
            return None; // a control byte: not JSON
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(self.text.get(start..self.pos)?);
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                _ => return None, // a control byte: not JSON
            }
            let from = self.pos;
            self.plain_run();
            out.push_str(self.text.get(from..self.pos)?);
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, out: &mut String) -> Option<()> {
        let c = self.peek()?;
        self.pos += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return None;
                        }
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))?
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(first)?,
                }
            }
            _ => return None,
        };
        out.push(ch);
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    /// A string or `null`.
    fn opt_str(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.eat(b'"') {
            self.string_after_quote().map(Some)
        } else if self.null() {
            Some(None)
        } else {
            None
        }
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        Some(self.opt_str()?.map(Cow::into_owned))
    }

    /// A key without escapes, and the `:` after it: the index of the key in `names`. The key
    /// `guess` is tried first.
    fn key(&mut self, names: &[Name], guess: usize) -> Option<usize> {
        if let Some(name) = names.get(guess) {
            if name.first.starts(&self.bytes[self.pos..]) {
                self.pos += name.first.len;
                self.ws();
                return Some(guess);
            }
        }
        self.expect(b'"')?;
        let start = self.pos;
        self.plain_run();
        let key = &self.bytes[start..self.pos];
        self.expect(b'"')?;
        let index = names.iter().position(|n| n.bare == key)?;
        self.ws();
        self.expect(b':')?;
        self.ws();
        Some(index)
    }

    /// An object of the fields `names`, whose values `field` reads by index. An unknown or
    /// repeated field is left to serde_json.
    fn object(&mut self, names: &[Name], mut field: impl FnMut(&mut Self, usize) -> Option<()>) -> Option<()> {
        debug_assert!(names.len() <= 32);
        self.expect(b'{')?;
        self.ws();
        if self.eat(b'}') {
            return Some(());
        }
        let mut seen = 0u32;
        let mut index = self.key(names, 0)?;
        loop {
            if seen & (1 << index) != 0 {
                return None;
            }
            seen |= 1 << index;
            field(self, index)?;
            // most often the next field follows at once
            let guess = index + 1;
            if let Some(name) = names.get(guess) {
                if name.next.starts(&self.bytes[self.pos..]) {
                    self.pos += name.next.len;
                    self.ws();
                    index = guess;
                    continue;
                }
            }
            self.ws();
            if self.eat(b',') {
                self.ws();
                index = self.key(names, if guess < names.len() { guess } else { 0 })?;
                continue;
            }
            return self.expect(b'}');
        }
    }

    /// A list of values that `item` reads, or `null`.
    fn opt_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Option<Vec<T>>> {
        if self.null() {
            return Some(None);
        }
        self.expect(b'[')?;
        self.ws();
        let mut out = Vec::with_capacity(8);
        if self.eat(b']') {
            return Some(Some(out));
        }
        loop {
            out.push(item(self)?);
            self.ws();
            if self.eat(b',') {
                self.ws();
                continue;
            }
            self.expect(b']')?;
            return Some(Some(out));
        }
    }

    fn invoice(&mut self) -> Option<RawInvoice<'a>> {
        const NAMES: &[Name] = &[
            Name::new(b"number"),
            Name::new(b"kind"),
            Name::new(b"customer"),
            Name::new(b"issue_date"),
            Name::new(b"due_date"),
            Name::new(b"currency"),
            Name::new(b"project"),
            Name::new(b"billing_period"),
            Name::new(b"lines"),
            Name::new(b"memo"),
            Name::new(b"credits"),
            Name::new(b"corrects"),
            Name::new(b"location"),
            Name::new(b"invoice_type"),
            Name::new(b"attachments"),
            Name::new(b"signed_pdf"),
        ];
        let mut r = RawInvoice {
            number: None,
            kind: None,
            credits: None,
            corrects: None,
            customer: None,
            currency: None,
            billing_period: None,
            lines: None,
            project: None,
            location: None,
            invoice_type: None,
            memo: None,
            issue_date: None,
            due_date: None,
            attachments: None,
            signed_pdf: None,
        };
        self.object(NAMES, |c, field| {
            match field {
                0 => r.number = c.opt_string()?,
                1 => r.kind = c.opt_str()?,
                2 => r.customer = c.customer()?,
                3 => r.issue_date = c.opt_str()?,
                4 => r.due_date = c.opt_str()?,
                5 => r.currency = c.opt_str()?,
                6 => r.project = c.opt_string()?,
                7 => r.billing_period = c.period()?,
                8 => r.lines = c.opt_list(Cursor::line)?,
                9 => r.memo = c.opt_string()?,
                10 => r.credits = c.opt_string()?,
                11 => r.corrects = c.opt_string()?,
                12 => r.location = c.opt_string()?,
                13 => r.invoice_type = c.opt_string()?,
                14 => r.attachments = c.opt_list(|c| Some(c.string()?.into_owned()))?,
                _ => r.signed_pdf = c.opt_string()?,
            }
            Some(())
        })?;
        Some(r)
    }

    fn customer(&mut self) -> Option<Option<RawCustomer>> {
        const NAMES: &[Name] = &[
            Name::new(b"id"),
            Name::new(b"name"),
            Name::new(b"email"),
            Name::new(b"address_lines"),
            Name::new(b"tax_id"),
        ];
        if self.null() {
            return Some(None);
        }
        let mut r = RawCustomer { id: None, name: None, email: None, address_lines: None, tax_id: None };
        self.object(NAMES, |c, field| {
            match field {
                0 => r.id = c.opt_string()?,
                1 => r.name = c.opt_string()?,
                2 => r.email = c.opt_string()?,
                3 => r.address_lines = c.opt_list(|c| Some(c.string()?.into_owned()))?,
                _ => r.tax_id = c.opt_string()?,
            }
            Some(())
        })?;
        Some(Some(r))
    }

    fn period(&mut self) -> Option<Option<RawPeriod<'a>>> {
        const NAMES: &[Name] = &[Name::new(b"start"), Name::new(b"end")];
        if self.null() {
            return Some(None);
        }
        let mut r = RawPeriod { start: None, end: None };
        self.object(NAMES, |c, field| {
            match field {
                0 => r.start = c.opt_str()?,
                _ => r.end = c.opt_str()?,
            }
            Some(())
        })?;
        Some(Some(r))
    }

    fn line(&mut self) -> Option<RawLine<'a>> {
        const NAMES: &[Name] = &[
            Name::new(b"description"),
            Name::new(b"quantity"),
            Name::new(b"unit_price"),
            Name::new(b"tax_rate"),
            Name::new(b"account"),
            Name::new(b"item"),
            Name::new(b"kind"),
            Name::new(b"service_date"),
        ];
        let mut r = RawLine {
            description: None,
            quantity: None,
            unit_price: None,
            tax_rate: None,
            account: None,
            item: None,
            kind: None,
            service_date: None,
        };
        self.object(NAMES, |c, field| {
            match field {
                0 => r.description = c.opt_string()?,
                1 => r.quantity = c.opt_str()?,
                2 => r.unit_price = c.opt_str()?,
                3 => r.tax_rate = c.opt_str()?,
                4 => r.account = c.opt_string()?,
                5 => r.item = c.opt_string()?,
                6 => r.kind = c.opt_str()?,
                _ => r.service_date = c.opt_str()?,
            }
            Some(())
        })?;
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{convert, shape_problem, Parsed};
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    /// The record as serde_json alone reads it.
    fn by_serde(text: &str) -> Parsed {
        match serde_json::from_str::<RawInvoice<'_>>(text) {
            Ok(raw) => convert(raw),
            Err(e) => Err(shape_problem(text, e)),
        }
    }

    /// Whatever the direct reader takes, serde_json reads the same way.
    fn agrees(text: &str) -> Result<bool, TestCaseError> {
        let direct = raw_invoice(text);
        let took = direct.is_some();
        if let Some(raw) = direct {
            let serde = serde_json::from_str::<RawInvoice<'_>>(text);
            prop_assert!(serde.is_ok(), "direct reader took what serde_json refuses: {text:?}: {:?}", serde.err());
            prop_assert_eq!(Some(raw), serde.ok(), "{:?}", text);
        }
        prop_assert_eq!(super::super::parse_record(text), by_serde(text), "{:?}", text);
        Ok(took)
    }

    const FULL: &str = r#"{"number":"CN-1","kind":"credit_note","credits":"INV-9","customer":{"id":"C1","name":"Ødegård \"AS\"","email":"a@b.no","address_lines":["Storgata 1\n2","0150 Oslo","Norway"],"tax_id":"NO999"},"issue_date":"2026-12-01","due_date":"2026-12-15","currency":"NOK","project":"P","billing_period":{"start":"2026-11-01","end":"2026-11-30"},"lines":[{"description":"Down payment \\ \t \u00e9 \ud83d\ude00 \/","quantity":"1","unit_price":"500.00","tax_rate":"0.25","account":"8400","item":"DP","kind":"deferred_revenue","service_date":"2026-11-03"}],"memo":"m","location":"Oslo","invoice_type":"retainer","attachments":["a/b/receipt.pdf"],"signed_pdf":"s.pdf","corrects":null}"#;

    #[test]
    fn takes_every_field_escape_and_null() {
        assert!(agrees(FULL).unwrap());
        let raw = raw_invoice(FULL).unwrap();
        let line = &raw.lines.as_ref().unwrap()[0];
        assert_eq!(line.description.as_deref(), Some("Down payment \\ \t é 😀 /"));
        assert!(matches!(raw.currency, Some(Cow::Borrowed("NOK"))));
        for text in [
            " \t{ \"number\" : \"A\" , \"lines\" : [ ] , \"customer\" : null }\r ",
            r#"{}"#,
            r#"{"lines":null,"attachments":[],"billing_period":{}}"#,
            // the fields in another order, the next one after a space, records shorter than a pattern
            r#"{"signed_pdf":"s","memo":"m","lines":[{"item":"I","account":"A","description":"d","quantity":"1","unit_price":"2"}],"number":"N","kind":"invoice","customer":{"name":"Z","id":"C"}}"#,
            r#"{"number":"N", "kind":"invoice","customer" :{"id":"C" ,"name":"Z"}}"#,
            r#"{"number":"N"}"#,
            r#"{"kind":"x"}"#,
        ] {
            assert!(agrees(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn leaves_the_unusual_to_serde_json() {
        for text in [
            r#"{"number":"A","number":"B"}"#,
            r#"{"number":"A","kind":"invoice","kind":"invoice","customer":null}"#,
            r#"{"number":"A","kind":"invoice","kinds":"invoice","customer":null}"#,
            r#"{"number":"A","kind":"invoice":"customer":null}"#,
            r#"{"number":"A","extra":1}"#,
            r#"{"n\u0075mber":"A"}"#,
            r#"{"number":7}"#,
            r#"{"number":"\ud83d"}"#,
            r#"{"number":"\udc00x"}"#,
            r#"{"number":"\x"}"#,
            "{\"number\":\"a\u{1}b\"}",
            r#"{"number":"A",}"#,
            r#"{"lines":[{"quantity":"1"},]}"#,
            r#"{"number":"A"} x"#,
            r#"["A"]"#,
            r#"{"number":"A""#,
            r#"{"customer":{"id":"C","id":"D"}}"#,
            r#"{"lines":[{"tax_rate":0.2}]}"#,
            r#"{"number":nul}"#,
            "",
        ] {
            assert!(!agrees(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn takes_every_record_of_the_data_set() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_dataset.py");
        let script =
            if script.is_file() { script } else { Path::new("/work/shared/bench/gen_dataset.py").to_path_buf() };
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args(["2000", "7"])
            .output()
            .unwrap_or_else(|e| panic!("this test runs {} with python3: {e}", script.display()));
        assert!(out.status.success(), "{}: {}", script.display(), String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let mut n = 0;
        for line in text.lines() {
            assert!(agrees(line).unwrap(), "the direct reader left a data set record to serde_json: {line}");
            n += 1;
        }
        assert_eq!(n, 2000);
    }

    use std::path::Path;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 .-]{0,12}",
            any::<String>(),
            "[\"\\\\/\u{0}-\u{1f}é😀]{0,6}",
            Just("2026-11-30".to_string()),
            "[0-9]{1,4}(\\.[0-9]{1,3})?",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            6 => text().prop_map(Value::String),
            1 => Just(Value::Null),
            1 => any::<i32>().prop_map(|n| json!(n)),
            1 => prop::collection::vec(text(), 0..3).prop_map(|v| json!(v)),
        ]
    }

    prop_compose! {
        fn record()(
            number in value(), kind in prop_oneof![Just(json!("invoice")), Just(json!("credit_note")), value()],
            id in value(), name in value(), lines in prop::collection::vec((value(), value(), value(), value()), 0..3),
            currency in prop_oneof![Just(json!("EUR")), value()], dates in (value(), value()),
            extra in prop::option::weighted(0.1, value()),
        ) -> Value {
            let mut v = json!({
                "number": number, "kind": kind, "customer": {"id": id, "name": name},
                "currency": currency, "issue_date": dates.0, "billing_period": {"start": dates.1, "end": "2026-11-30"},
                "lines": lines.into_iter().map(|(d, q, p, t)| json!({"description": d, "quantity": q, "unit_price": p, "tax_rate": t})).collect::<Vec<_>>(),
            });
            if let Some(x) = extra {
                v["surprise"] = x;
            }
            v
        }
    }

    /// An edit of the record's text: insert, delete or replace a character.
    fn edit(text: &str, at: usize, what: u8, with: char) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            return with.to_string();
        }
        let at = at % chars.len();
        match what % 4 {
            0 => chars.insert(at, with),
            1 => {
                chars.remove(at);
            }
            2 => chars[at] = with,
            _ => chars.insert(at, ' '),
        }
        chars.into_iter().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn reads_as_serde_json_does(record in record(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), prop::sample::select(&['"', '\\', ',', ':', '{', '}', '[', ']', 'n', 'u', '0', 'd', '\n', '\u{1}', 'é'][..])), 0..3)) {
            let mut text = record.to_string();
            agrees(&text)?;
            for (at, what, with) in edits {
                text = edit(&text, at, what, with);
                agrees(&text)?;
            }
        }
    }
}
