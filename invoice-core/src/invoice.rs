//! The invoice model: what an invoice says (customer, lines, dates, references), how its totals
//! are computed, and the checks it must pass before it is issued.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, Violation, ViolationCode};
use crate::money::{cmp_value, positive_zero, Currency, Money, RoundingPolicy, TaxRounding};
use crate::status::Status;

/// The book's internal id of an invoice. Drafts have an id long before they have a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvoiceId(pub u64);

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The id of an export or process batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatchId(pub u64);

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "B{:06}", self.0)
    }
}

/// What kind of document the invoice is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// A plain invoice.
    #[default]
    Invoice,
    /// A credit note. Its amounts are positive; the kind says the money goes back.
    CreditNote {
        /// The number of the invoice it credits, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credits: Option<String>,
    },
    /// An adjustment invoice that corrects an exported invoice.
    Adjustment {
        /// The number of the invoice it corrects.
        corrects: String,
    },
}

impl Kind {
    /// A stable snake_case name: `invoice`, `credit_note`, `adjustment`.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote { .. } => "credit_note",
            Kind::Adjustment { .. } => "adjustment",
        }
    }

    /// True for credit notes.
    pub fn is_credit(&self) -> bool {
        matches!(self, Kind::CreditNote { .. })
    }
}

/// Where an invoice came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Generated from time entries (and the expenses of the period).
    Time,
    /// A fixed-price milestone.
    Milestone,
    /// Typed in by hand: own lines, no time behind it.
    #[default]
    Freeform,
}

/// The customer an invoice is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Customer {
    /// The customer's id in the host application.
    pub id: String,
    /// Name as printed and exported.
    pub name: String,
    /// Billing e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Postal address, one entry per line; the last line is usually the country.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address_lines: Vec<String>,
    /// VAT or other tax id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
}

impl Customer {
    /// A customer with an id and a name; the other fields are empty.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Customer {
        Customer { id: id.into(), name: name.into(), ..Customer::default() }
    }
}

/// A billing period, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl Period {
    /// A period from `start` to `end`, both inclusive.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Period {
        Period { start, end }
    }

    /// True when `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// What a line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Work: hours or any service.
    #[default]
    Service,
    /// A re-billed expense.
    Expense,
    /// A fixed-price milestone.
    Milestone,
    /// Deferred revenue or a down payment.
    DeferredRevenue,
    /// A discount; its net amount is zero or negative.
    Discount,
}

/// The EN 16931 VAT category of a line (UNCL5305 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxCategory {
    /// S: standard rate (rate above zero).
    Standard,
    /// Z: zero rated goods.
    ZeroRated,
    /// E: exempt from tax.
    Exempt,
    /// AE: VAT reverse charge.
    ReverseCharge,
    /// K: intra-community supply.
    IntraCommunity,
    /// G: export outside the EU.
    Export,
    /// O: outside the scope of VAT.
    OutsideScope,
}

impl TaxCategory {
    /// The UNCL5305 code used by e-invoices.
    pub fn code(self) -> &'static str {
        match self {
            TaxCategory::Standard => "S",
            TaxCategory::ZeroRated => "Z",
            TaxCategory::Exempt => "E",
            TaxCategory::ReverseCharge => "AE",
            TaxCategory::IntraCommunity => "K",
            TaxCategory::Export => "G",
            TaxCategory::OutsideScope => "O",
        }
    }

    /// True for the categories whose rate must be zero.
    pub fn requires_zero_rate(self) -> bool {
        !matches!(self, TaxCategory::Standard)
    }
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Line {
    /// Text printed on the invoice; may span several lines.
    pub description: String,
    /// Quantity (hours, pieces, ...).
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price of one unit, in the invoice currency; may have more decimals than the currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    /// Tax rate as a fraction: 0.19 is 19 %.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// VAT category; when absent it is Standard for a rate above zero and ZeroRated for zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_category: Option<TaxCategory>,
    /// Item (product or service code) in the accounting system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Revenue (GL) account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gl_account: Option<String>,
    /// What the line bills.
    #[serde(default)]
    pub kind: LineKind,
    /// The day the service was performed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date: Option<NaiveDate>,
}

impl Line {
    /// A service line with no tax; chain the setters for the rest.
    ///
    /// ```
    /// use invoice_core::{Line, LineKind};
    /// use rust_decimal_macros::dec;
    /// let line = Line::new("Consulting, October", dec!(7.5), dec!(120.00))
    ///     .tax_rate(dec!(0.19))
    ///     .item("CONS")
    ///     .gl_account("8400");
    /// assert_eq!(line.kind, LineKind::Service);
    /// ```
    #[inline]
    pub fn new(description: impl Into<String>, quantity: Decimal, unit_price: Decimal) -> Line {
        Line {
            description: description.into(),
            quantity,
            unit_price,
            tax_rate: Decimal::ZERO,
            tax_category: None,
            item: None,
            gl_account: None,
            kind: LineKind::Service,
            service_date: None,
        }
    }

    /// Set the tax rate (a fraction).
    #[inline]
    pub fn tax_rate(mut self, rate: Decimal) -> Line {
        self.tax_rate = rate;
        self
    }

    /// Set the VAT category explicitly.
    #[inline]
    pub fn tax_category(mut self, category: TaxCategory) -> Line {
        self.tax_category = Some(category);
        self
    }

    /// Set the item.
    pub fn item(mut self, item: impl Into<String>) -> Line {
        self.item = Some(item.into());
        self
    }

    /// Set the GL account.
    pub fn gl_account(mut self, account: impl Into<String>) -> Line {
        self.gl_account = Some(account.into());
        self
    }

    /// Set the line kind.
    #[inline]
    pub fn kind(mut self, kind: LineKind) -> Line {
        self.kind = kind;
        self
    }

    /// Set the service date.
    #[inline]
    pub fn service_date(mut self, date: NaiveDate) -> Line {
        self.service_date = Some(date);
        self
    }

    /// Give zero values a positive sign: `-0` would come back from the journal as `0` and
    /// change the content hash (the book calls this for every line it takes in).
    pub fn normalize_zeros(&mut self) {
        self.quantity = positive_zero(self.quantity);
        self.unit_price = positive_zero(self.unit_price);
        self.tax_rate = positive_zero(self.tax_rate);
    }

    /// The VAT category in effect (explicit, or derived from the rate).
    #[inline]
    pub fn effective_tax_category(&self) -> TaxCategory {
        match self.tax_category {
            Some(c) => c,
            None if self.tax_rate.is_zero() => TaxCategory::ZeroRated,
            None => TaxCategory::Standard,
        }
    }

    /// quantity x unit price, rounded to the currency with `policy`.
    #[inline]
    pub fn net(&self, currency: Currency, policy: RoundingPolicy) -> Result<Decimal> {
        // no error value is built (and dropped) for the lines that do not overflow
        match policy.mode.round_product(self.quantity, self.unit_price, currency.exponent()) {
            Some(net) => Ok(net),
            None => Err(Error::Overflow { context: "line quantity x unit price" }),
        }
    }
}

/// A payment received against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PaymentRecord {
    /// Day the money arrived.
    pub date: NaiveDate,
    /// Amount, in the invoice currency, at most its minor unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Bank or remittance reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// True when `s` is empty or only white space (what `s.trim().is_empty()` says, stopping at
/// the first other character).
fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// A reference to a document kept beside the invoice (a PDF of receipts, a timesheet, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    /// Name shown to people (and used for bookmarks).
    pub name: String,
    /// Where the host application keeps it (a path, a URL, a storage key).
    pub location: String,
}

/// The tax of one (category, rate) group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxGroup {
    /// VAT category.
    pub category: TaxCategory,
    /// Rate as a fraction, normalised (0.190 is 0.19).
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Sum of the rounded line nets in the group.
    #[serde(with = "rust_decimal::serde::str")]
    pub taxable: Decimal,
    /// Tax of the group, rounded to the currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

/// The computed totals of an invoice. All amounts are at the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Currency of every amount here.
    pub currency: Currency,
    /// Rounded net of each line, in line order.
    pub line_nets: Vec<Decimal>,
    /// Tax groups ordered by category, then rate.
    pub tax_groups: Vec<TaxGroup>,
    /// Sum of the line nets.
    pub net: Decimal,
    /// Sum of the group taxes.
    pub tax: Decimal,
    /// net + tax.
    pub gross: Decimal,
}

impl Totals {
    /// The gross amount as money.
    pub fn gross_money(&self) -> Money {
        Money { amount: self.gross, currency: self.currency }
    }
}

/// An invoice: what it says, and where it stands on its four status axes.
///
/// Build one with [`Invoice::builder`] and hand it to the [`Book`](crate::Book); the book owns
/// the id, the number (unless the invoice brings its own), the status and the bookkeeping fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Internal id, set by the book.
    #[serde(default)]
    pub id: InvoiceId,
    /// Invoice number: assigned from the numbering series at issue, or brought along on import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Numbering series to draw the number from (default: the series of the kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Invoice, credit note or adjustment.
    #[serde(default)]
    pub kind: Kind,
    /// Time, milestone or freeform.
    #[serde(default)]
    pub origin: Origin,
    /// Who pays.
    pub customer: Customer,
    /// Project the invoice bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Office or location (for grouping and for the accounting system's location/class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A user-defined label ("retainer", "T&M", a business unit ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_type: Option<String>,
    /// The billing period the invoice covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<Period>,
    /// Issue date (set to the book's date at issue when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<NaiveDate>,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// Currency of every amount of the invoice.
    pub currency: Currency,
    /// The lines.
    #[serde(default)]
    pub lines: Vec<Line>,
    /// Free text printed under the lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memo: String,
    /// The accounting system's own number for the invoice, recorded after import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounting_reference: Option<String>,
    /// Documents that go with the invoice (compiled into backups after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// A signed copy of the invoice that replaces the rendered one in backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_document: Option<Attachment>,
    /// Rounding the totals are computed with.
    #[serde(default)]
    pub rounding: RoundingPolicy,

    /// The four status axes (set by the book).
    #[serde(default)]
    pub status: Status,
    /// Payments received (set by the book).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<PaymentRecord>,
    /// The open export batch holding the invoice, if any (set by the book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchId>,
    /// Counts every change the book made to this invoice (set by the book).
    #[serde(default)]
    pub revision: u64,
}

impl Invoice {
    /// Start a draft invoice for `customer` in `currency`.
    ///
    /// ```
    /// use invoice_core::{Customer, Currency, Invoice, Line};
    /// use rust_decimal_macros::dec;
    /// let invoice = Invoice::builder(Customer::new("C1", "Müller GmbH"), Currency::EUR)
    ///     .line(Line::new("Consulting", dec!(3), dec!(100.00)).tax_rate(dec!(0.19)))
    ///     .line(Line::new("Travel", dec!(1), dec!(42.50)).tax_rate(dec!(0.07)))
    ///     .memo("Thank you")
    ///     .build();
    /// let totals = invoice.totals().unwrap();
    /// assert_eq!(totals.net, dec!(342.50));
    /// assert_eq!(totals.tax, dec!(59.98)); // 57.00 + 2.975 -> 2.98
    /// assert_eq!(totals.gross, dec!(402.48));
    /// ```
    #[inline]
    pub fn builder(customer: Customer, currency: Currency) -> InvoiceBuilder {
        InvoiceBuilder {
            invoice: Invoice {
                id: InvoiceId::default(),
                number: None,
                series: None,
                kind: Kind::Invoice,
                origin: Origin::Freeform,
                customer,
                project: None,
                location: None,
                invoice_type: None,
                billing_period: None,
                issue_date: None,
                due_date: None,
                currency,
                lines: Vec::new(),
                memo: String::new(),
                accounting_reference: None,
                attachments: Vec::new(),
                signed_document: None,
                rounding: RoundingPolicy::default(),
                status: Status::default(),
                payments: Vec::new(),
                batch: None,
                revision: 0,
            },
        }
    }

    /// How people and errors name the invoice: its number, or `draft #id` before it has one.
    pub fn label(&self) -> String {
        match &self.number {
            Some(n) => n.clone(),
            None => format!("draft {}", self.id),
        }
    }

    /// Compute the totals: each line net rounded to the currency, tax per (category, rate)
    /// group (or per line, with [`TaxRounding::PerLine`]), gross = net + tax.
    pub fn totals(&self) -> Result<Totals> {
        let currency = self.currency;
        let policy = self.rounding;
        let mut line_nets = Vec::with_capacity(self.lines.len());
        // The groups as they are found: (category, normalised rate, taxable, per-line tax sum),
        // sorted by (category, rate) at the end; invoices have a handful of rates. The first
        // groups also keep the rate as their last line spelled it, to find them again without
        // normalising.
        let mut tax_groups: Vec<TaxGroup> = Vec::new();
        let mut spelled = [[0u8; 16]; 8];
        let mut net = Decimal::ZERO;
        let overflow = |context| Error::Overflow { context };
        for line in &self.lines {
            let line_net = line.net(currency, policy)?;
            net = net.checked_add(line_net).ok_or_else(|| overflow("invoice net"))?;
            let category = line.effective_tax_category();
            let spelling = line.tax_rate.serialize();
            let known = tax_groups.iter().zip(&spelled).position(|(g, s)| g.category == category && *s == spelling);
            let found = match known {
                Some(k) => k,
                None => {
                    let rate = line.tax_rate.normalize();
                    let k =
                        match tax_groups.iter().position(|g| g.category == category && cmp_value(g.rate, rate).is_eq())
                        {
                            Some(k) => k,
                            None => {
                                let zero = Decimal::ZERO;
                                tax_groups.push(TaxGroup { category, rate, taxable: zero, tax: zero });
                                tax_groups.len() - 1
                            }
                        };
                    if let Some(s) = spelled.get_mut(k) {
                        *s = spelling;
                    }
                    k
                }
            };
            let group = &mut tax_groups[found];
            group.taxable = group.taxable.checked_add(line_net).ok_or_else(|| overflow("tax group net"))?;
            if policy.tax == TaxRounding::PerLine {
                let tax = policy
                    .mode
                    .round_product(line_net, line.tax_rate, currency.exponent())
                    .ok_or_else(|| overflow("line tax"))?;
                group.tax = group.tax.checked_add(tax).ok_or_else(|| overflow("tax group tax"))?;
            }
            line_nets.push(line_net);
        }
        // the order of a map keyed by (category, rate): the keys are distinct values
        tax_groups.sort_by(|a, b| a.category.cmp(&b.category).then_with(|| cmp_value(a.rate, b.rate)));
        let mut tax = Decimal::ZERO;
        for g in &mut tax_groups {
            if policy.tax == TaxRounding::PerGroup {
                g.tax = policy
                    .mode
                    .round_product(g.taxable, g.rate, currency.exponent())
                    .ok_or_else(|| overflow("group tax"))?;
            }
            tax = tax.checked_add(g.tax).ok_or_else(|| overflow("invoice tax"))?;
        }
        let gross = net.checked_add(tax).ok_or_else(|| overflow("invoice gross"))?;
        let at_scale = |mut d: Decimal| {
            d.rescale(currency.exponent());
            d
        };
        Ok(Totals { currency, line_nets, tax_groups, net: at_scale(net), tax: at_scale(tax), gross: at_scale(gross) })
    }

    /// Sum of the payments received.
    pub fn paid(&self) -> Result<Decimal> {
        self.payments
            .iter()
            .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(p.amount).ok_or(Error::Overflow { context: "payments" }))
    }

    /// Why an export target must not receive this invoice, if it must not: an invoice without
    /// lines is never sent ("Invoice has no lines - not sent"). Zero-total invoices are sent.
    pub fn export_skip_reason(&self) -> Option<&'static str> {
        if self.lines.is_empty() {
            Some(NO_LINES_MESSAGE)
        } else {
            None
        }
    }

    /// Every problem that keeps the invoice from being issued, all at once.
    ///
    /// ```
    /// use invoice_core::{Customer, Currency, Invoice, Line};
    /// use rust_decimal_macros::dec;
    /// let invoice = Invoice::builder(Customer::new("", "ACME"), Currency::USD)
    ///     .line(Line::new("ok", dec!(1), dec!(10)))
    ///     .line(Line::new("", dec!(1), dec!(-5)))
    ///     .build();
    /// let found: Vec<_> = invoice.validate().iter().map(|v| (v.code.as_str(), v.path.clone())).collect();
    /// assert_eq!(found, vec![
    ///     ("missing_customer_id", "customer.id".to_string()),
    ///     ("empty_description", "lines[1].description".to_string()),
    ///     ("negative_unit_price", "lines[1].unit_price".to_string()),
    /// ]);
    /// ```
    pub fn validate(&self) -> Vec<Violation> {
        self.validate_and_total().0
    }

    /// [`Invoice::validate`], and the invoice's [`Invoice::totals`] that it makes on the way,
    /// for a caller that needs both (a reader that checks invoices and then exports them).
    ///
    /// ```
    /// use invoice_core::{Customer, Currency, Invoice, Line};
    /// use rust_decimal_macros::dec;
    /// let invoice = Invoice::builder(Customer::new("C1", "ACME"), Currency::USD)
    ///     .line(Line::new("ok", dec!(2), dec!(10)))
    ///     .build();
    /// let (violations, totals) = invoice.validate_and_total();
    /// assert!(violations.is_empty());
    /// assert_eq!(totals.unwrap(), invoice.totals().unwrap());
    /// ```
    pub fn validate_and_total(&self) -> (Vec<Violation>, Result<Totals>) {
        let mut out = Vec::new();
        let mut push = |code, path: String, message: String| out.push(Violation { code, path, message });
        if let Some(number) = &self.number {
            if is_blank(number) {
                push(ViolationCode::EmptyNumber, "number".into(), "the invoice number is empty".into());
            } else if number.chars().count() > MAX_NUMBER_LEN {
                push(
                    ViolationCode::NumberTooLong,
                    "number".into(),
                    format!(
                        "the invoice number has {} characters; at most {MAX_NUMBER_LEN} are allowed",
                        number.chars().count()
                    ),
                );
            }
            if number.chars().any(char::is_control) {
                push(
                    ViolationCode::ControlCharacter,
                    "number".into(),
                    "the invoice number contains a control character".into(),
                );
            }
        }
        if is_blank(&self.customer.id) {
            push(ViolationCode::MissingCustomerId, "customer.id".into(), "the customer has no id".into());
        }
        if is_blank(&self.customer.name) {
            push(ViolationCode::MissingCustomerName, "customer.name".into(), "the customer has no name".into());
        }
        if let Some(email) = &self.customer.email {
            let ok = email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !email.contains(char::is_whitespace));
            if !ok {
                push(
                    ViolationCode::InvalidEmail,
                    "customer.email".into(),
                    format!("'{email}' is not an e-mail address"),
                );
            }
        }
        if let (Some(issue), Some(due)) = (self.issue_date, self.due_date) {
            if due < issue {
                push(
                    ViolationCode::DueBeforeIssue,
                    "due_date".into(),
                    format!("due date {due} is before issue date {issue}"),
                );
            }
        }
        if let Some(p) = self.billing_period {
            if p.end < p.start {
                push(
                    ViolationCode::PeriodEndsBeforeStart,
                    "billing_period".into(),
                    format!("billing period ends {} before it starts {}", p.end, p.start),
                );
            }
        }
        match &self.kind {
            Kind::Adjustment { corrects } if is_blank(corrects) => push(
                ViolationCode::MissingReference,
                "kind.corrects".into(),
                "an adjustment must name the invoice it corrects".into(),
            ),
            Kind::CreditNote { credits: Some(n) } | Kind::Adjustment { corrects: n }
                if Some(n) == self.number.as_ref() =>
            {
                push(ViolationCode::SelfReference, "kind".into(), format!("{} refers to itself", self.label()))
            }
            _ => {}
        }
        let credit = self.kind.is_credit();
        // When the totals can be made, no line's net overflows (the totals make every one).
        let totals = self.totals();
        for (i, line) in self.lines.iter().enumerate() {
            if is_blank(&line.description) {
                push(
                    ViolationCode::EmptyDescription,
                    format!("lines[{i}].description"),
                    "the line has no description".into(),
                );
            }
            if credit && line.quantity.is_sign_negative() && !line.quantity.is_zero() {
                push(
                    ViolationCode::NegativeQuantity,
                    format!("lines[{i}].quantity"),
                    format!("quantity {} is negative; credit notes carry positive amounts", line.quantity),
                );
            }
            if line.kind == LineKind::Discount {
                if let Ok(net) = line.net(self.currency, self.rounding) {
                    if net.is_sign_positive() && !net.is_zero() {
                        push(
                            ViolationCode::PositiveDiscount,
                            format!("lines[{i}].unit_price"),
                            format!("a discount line must reduce the total; its amount is {net}"),
                        );
                    }
                }
            } else if line.unit_price.is_sign_negative() && !line.unit_price.is_zero() {
                push(
                    ViolationCode::NegativeUnitPrice,
                    format!("lines[{i}].unit_price"),
                    format!("unit price {} is negative; use a discount line or a credit note", line.unit_price),
                );
            }
            if !crate::money::is_fraction(line.tax_rate) {
                push(
                    ViolationCode::TaxRateOutOfRange,
                    format!("lines[{i}].tax_rate"),
                    format!("tax rate {} is not a fraction from 0 up to (not including) 1", line.tax_rate),
                );
            } else if line.effective_tax_category().requires_zero_rate() != line.tax_rate.is_zero() {
                push(
                    ViolationCode::TaxCategoryMismatch,
                    format!("lines[{i}].tax_category"),
                    format!(
                        "tax category {} does not go with rate {}",
                        line.effective_tax_category().code(),
                        line.tax_rate
                    ),
                );
            }
            if totals.is_err() && line.net(self.currency, self.rounding).is_err() {
                push(ViolationCode::AmountOverflow, format!("lines[{i}]"), "quantity x unit price is too large".into());
            }
            if let (Some(d), Some(p)) = (line.service_date, self.billing_period) {
                if !p.contains(d) {
                    push(
                        ViolationCode::ServiceDateOutsidePeriod,
                        format!("lines[{i}].service_date"),
                        format!("service date {d} is outside the billing period {p}"),
                    );
                }
            }
        }
        match &totals {
            Ok(t) if credit && t.gross.is_sign_negative() && !t.gross.is_zero() => push(
                ViolationCode::NegativeCreditNote,
                "lines".into(),
                format!("the credit note totals {}; credit notes carry positive amounts", t.gross),
            ),
            Ok(_) => {}
            Err(_) => push(ViolationCode::AmountOverflow, "lines".into(), "the invoice total is too large".into()),
        }
        (out, totals)
    }

    /// The invoice's content hash: SHA-256 (hex) of what the invoice says, without its status
    /// or bookkeeping. Two invoices with the same content hash export identically.
    ///
    /// The hashed bytes are a fixed, versioned encoding (`invoice-content/1`): every field in
    /// declaration order, strings and lists length-prefixed, decimals as their 16-byte
    /// `rust_decimal` form (so `1.5` and `1.50` differ, as they do in an export), dates as days
    /// since 0001-01-01. Hashes stored in a ledger stay valid as long as the version does.
    pub fn content_hash(&self) -> ContentHash {
        let mut h = ContentHasher(Sha256::new());
        h.bytes(b"invoice-content/1");
        h.opt_str(self.number.as_deref());
        match &self.kind {
            Kind::Invoice => h.tag(0),
            Kind::CreditNote { credits } => {
                h.tag(1);
                h.opt_str(credits.as_deref());
            }
            Kind::Adjustment { corrects } => {
                h.tag(2);
                h.str(corrects);
            }
        }
        h.tag(self.origin as u8);
        let c = &self.customer;
        h.str(&c.id);
        h.str(&c.name);
        h.opt_str(c.email.as_deref());
        h.len(c.address_lines.len());
        for l in &c.address_lines {
            h.str(l);
        }
        h.opt_str(c.tax_id.as_deref());
        h.opt_str(self.project.as_deref());
        h.opt_str(self.location.as_deref());
        h.opt_str(self.invoice_type.as_deref());
        match self.billing_period {
            Some(p) => {
                h.tag(1);
                h.date(p.start);
                h.date(p.end);
            }
            None => h.tag(0),
        }
        h.opt_date(self.issue_date);
        h.opt_date(self.due_date);
        h.str(self.currency.code());
        h.len(self.lines.len());
        for l in &self.lines {
            h.str(&l.description);
            h.dec(l.quantity);
            h.dec(l.unit_price);
            h.dec(l.tax_rate);
            h.tag(l.effective_tax_category() as u8);
            h.opt_str(l.item.as_deref());
            h.opt_str(l.gl_account.as_deref());
            h.tag(l.kind as u8);
            h.opt_date(l.service_date);
        }
        h.str(&self.memo);
        h.tag(self.rounding.mode as u8);
        h.tag(self.rounding.tax as u8);
        ContentHash(h.0.finalize().into())
    }
}

/// An [`Invoice::content_hash`]: 32 bytes of SHA-256, written (and serialized) as 64
/// lower-case hex digits.
///
/// ```
/// use invoice_core::ContentHash;
/// let text = "5f".repeat(32);
/// let hash: ContentHash = text.parse().unwrap();
/// assert_eq!(hash.to_string(), text);
/// assert!("5F".parse::<ContentHash>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(b >> 4)];
            hex[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

impl std::str::FromStr for ContentHash {
    type Err = String;

    /// 64 lower-case hex digits.
    fn from_str(s: &str) -> std::result::Result<ContentHash, String> {
        let digit = |c: u8| HEX.iter().position(|&h| h == c).and_then(|v| u8::try_from(v).ok());
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(format!("a content hash has 64 hex digits, not {}", bytes.len()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            match (digit(pair[0]), digit(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
                _ => return Err(format!("'{s}' is not 64 lower-case hex digits")),
            }
        }
        Ok(ContentHash(out))
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ContentHash, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Feeds the fixed encoding of [`Invoice::content_hash`] into SHA-256.
struct ContentHasher(Sha256);

impl ContentHasher {
    fn bytes(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }
    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.update(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.tag(1);
                self.str(s);
            }
            None => self.tag(0),
        }
    }
    fn dec(&mut self, d: Decimal) {
        self.0.update(d.serialize());
    }
    fn date(&mut self, d: NaiveDate) {
        self.0.update(chrono::Datelike::num_days_from_ce(&d).to_le_bytes());
    }
    fn opt_date(&mut self, d: Option<NaiveDate>) {
        match d {
            Some(d) => {
                self.tag(1);
                self.date(d);
            }
            None => self.tag(0),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The log message of an invoice that is never sent to a target because it has no lines.
pub const NO_LINES_MESSAGE: &str = "Invoice has no lines - not sent";

/// The longest invoice number the engine accepts (targets may allow fewer; pre-flight says so).
pub const MAX_NUMBER_LEN: usize = 64;

/// Builds a draft [`Invoice`]; see [`Invoice::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct InvoiceBuilder {
    invoice: Invoice,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => |$inv:ident, $v:ident| $body:expr;)*) => {
        impl InvoiceBuilder {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $name(mut self, $v: $ty) -> Self {
                    let $inv = &mut self.invoice;
                    $body;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Bring an invoice number (imports); otherwise the book assigns one at issue.
    number: impl Into<String> => |i, v| i.number = Some(v.into());
    /// Draw the number from this series.
    series: impl Into<String> => |i, v| i.series = Some(v.into());
    /// Invoice, credit note or adjustment.
    kind: Kind => |i, v| i.kind = v;
    /// Time, milestone or freeform.
    origin: Origin => |i, v| i.origin = v;
    /// The project billed.
    project: impl Into<String> => |i, v| i.project = Some(v.into());
    /// Office or location.
    location: impl Into<String> => |i, v| i.location = Some(v.into());
    /// User-defined invoice type.
    invoice_type: impl Into<String> => |i, v| i.invoice_type = Some(v.into());
    /// Billing period.
    billing_period: Period => |i, v| i.billing_period = Some(v);
    /// Issue date.
    issue_date: NaiveDate => |i, v| i.issue_date = Some(v);
    /// Due date.
    due_date: NaiveDate => |i, v| i.due_date = Some(v);
    /// Add a line.
    line: Line => |i, v| i.lines.push(v);
    /// Replace the lines.
    lines: Vec<Line> => |i, v| i.lines = v;
    /// Memo text.
    memo: impl Into<String> => |i, v| i.memo = v.into();
    /// Add an attachment reference.
    attachment: Attachment => |i, v| i.attachments.push(v);
    /// The signed copy of the invoice.
    signed_document: Attachment => |i, v| i.signed_document = Some(v);
    /// Rounding settings.
    rounding: RoundingPolicy => |i, v| i.rounding = v;
}

impl InvoiceBuilder {
    /// The draft invoice.
    #[inline]
    pub fn build(self) -> Invoice {
        self.invoice
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rounding;
    use rust_decimal_macros::dec;

    fn inv(currency: Currency, lines: Vec<Line>) -> Invoice {
        Invoice::builder(Customer::new("C1", "Ødegård AS"), currency).lines(lines).build()
    }

    #[test]
    fn tax_is_rounded_per_group_by_default_and_per_line_on_request() {
        // three lines of 0.10 at 5%: per group 0.30*0.05 = 0.015 -> 0.02; per line 3 x 0.005 -> 3 x 0.01
        let lines = vec![Line::new("a", dec!(1), dec!(0.10)).tax_rate(dec!(0.05)); 3];
        let mut i = inv(Currency::EUR, lines);
        assert_eq!(i.totals().unwrap().tax, dec!(0.02));
        i.rounding.tax = TaxRounding::PerLine;
        assert_eq!(i.totals().unwrap().tax, dec!(0.03));
        i.rounding.mode = Rounding::HalfEven;
        assert_eq!(i.totals().unwrap().tax, dec!(0.00));
    }

    #[test]
    fn rates_group_by_value_not_spelling_and_by_category() {
        let i = inv(
            Currency::EUR,
            vec![
                Line::new("a", dec!(1), dec!(10)).tax_rate(dec!(0.19)),
                Line::new("b", dec!(1), dec!(10)).tax_rate(dec!(0.190)),
                Line::new("c", dec!(1), dec!(10)),
                Line::new("d", dec!(1), dec!(10)).tax_category(TaxCategory::ReverseCharge),
            ],
        );
        let t = i.totals().unwrap();
        assert_eq!(t.tax_groups.len(), 3);
        assert_eq!(t.tax_groups[0].category, TaxCategory::Standard);
        assert_eq!(t.tax_groups[0].taxable, dec!(20));
        assert_eq!(t.tax.to_string(), "3.80");
        assert_eq!(t.gross.to_string(), "43.80");
    }

    #[test]
    fn totals_at_exponents_zero_and_three() {
        let jpy = inv(Currency::JPY, vec![Line::new("a", dec!(2.5), dec!(101)).tax_rate(dec!(0.10))]);
        let t = jpy.totals().unwrap();
        assert_eq!(
            (t.net.to_string(), t.tax.to_string(), t.gross.to_string()),
            ("253".into(), "25".into(), "278".into())
        );
        let kwd = inv(Currency::KWD, vec![Line::new("a", dec!(0.333), dec!(1.5)).tax_rate(dec!(0.05))]);
        let t = kwd.totals().unwrap();
        assert_eq!((t.net.to_string(), t.tax.to_string()), ("0.500".into(), "0.025".into()));
    }

    #[test]
    fn zero_lines_and_overflow() {
        let empty = inv(Currency::USD, vec![]);
        assert_eq!(empty.totals().unwrap().gross.to_string(), "0.00");
        assert_eq!(empty.export_skip_reason(), Some(NO_LINES_MESSAGE));
        let huge = inv(Currency::USD, vec![Line::new("a", Decimal::MAX, dec!(2))]);
        assert_eq!(huge.totals().unwrap_err().code(), "overflow");
        assert!(huge.validate().iter().any(|v| v.code == ViolationCode::AmountOverflow && v.path == "lines[0]"));
    }

    /// The totals as computed before the grouping used a small vector (a map keyed by
    /// (category, normalised rate)), for the property test below.
    fn totals_with_a_map(i: &Invoice) -> Result<Totals> {
        use std::collections::BTreeMap;
        let (currency, policy) = (i.currency, i.rounding);
        let mut line_nets = Vec::new();
        let mut groups: BTreeMap<(TaxCategory, Decimal), (Decimal, Decimal)> = BTreeMap::new();
        let mut net = Decimal::ZERO;
        let overflow = |context| Error::Overflow { context };
        for line in &i.lines {
            let line_net = line.net(currency, policy)?;
            net = net.checked_add(line_net).ok_or(overflow("invoice net"))?;
            let key = (line.effective_tax_category(), line.tax_rate.normalize());
            let group = groups.entry(key).or_insert((Decimal::ZERO, Decimal::ZERO));
            group.0 = group.0.checked_add(line_net).ok_or(overflow("tax group net"))?;
            if policy.tax == TaxRounding::PerLine {
                let raw = line_net.checked_mul(line.tax_rate).ok_or(overflow("line tax"))?;
                group.1 = group.1.checked_add(policy.mode.round_to(raw, currency)).ok_or(overflow("tax group tax"))?;
            }
            line_nets.push(line_net);
        }
        let mut tax = Decimal::ZERO;
        let mut tax_groups = Vec::new();
        for ((category, rate), (taxable, line_tax)) in groups {
            let group_tax = match policy.tax {
                TaxRounding::PerGroup => {
                    policy.mode.round_to(taxable.checked_mul(rate).ok_or(overflow("group tax"))?, currency)
                }
                TaxRounding::PerLine => line_tax,
            };
            tax = tax.checked_add(group_tax).ok_or(overflow("invoice tax"))?;
            tax_groups.push(TaxGroup { category, rate, taxable, tax: group_tax });
        }
        let gross = net.checked_add(tax).ok_or(overflow("invoice gross"))?;
        let at_scale = |mut d: Decimal| {
            d.rescale(currency.exponent());
            d
        };
        Ok(Totals { currency, line_nets, tax_groups, net: at_scale(net), tax: at_scale(tax), gross: at_scale(gross) })
    }

    /// Every amount with its scale and sign, so that `0.10` and `0.1` differ.
    fn exact(t: &Result<Totals>) -> String {
        match t {
            Err(e) => format!("error {}", e.code()),
            Ok(t) => {
                let mut s = format!("{:?} {:?} {:?} {:?} {:?}", t.currency, t.line_nets, t.net, t.tax, t.gross);
                for g in &t.tax_groups {
                    s.push_str(&format!(
                        " [{:?} {:?} {:?} {:?} {:?}]",
                        g.category,
                        g.rate.serialize(),
                        g.taxable.serialize(),
                        g.tax.serialize(),
                        g.taxable
                    ));
                }
                for d in t.line_nets.iter().chain([&t.net, &t.tax, &t.gross]) {
                    s.push_str(&format!(" {:?}", d.serialize()));
                }
                s
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        #[test]
        fn totals_are_those_of_the_map(
            lines in proptest::collection::vec(
                (-100_000i64..100_000, 0u32..4, -10_000_000i64..10_000_000, 0u32..6, 0usize..9, 0usize..4),
                0..8,
            ),
            currency in proptest::sample::select(vec![Currency::EUR, Currency::JPY, Currency::KWD]),
            even: bool,
            per_line: bool,
            huge: bool,
        ) {
            let rates = [dec!(0.19), dec!(0.190), dec!(0.07), dec!(0), dec!(0.00), dec!(-0), dec!(0.0825), dec!(0.2), dec!(0.20000)];
            let categories = [None, Some(TaxCategory::ReverseCharge), Some(TaxCategory::Exempt), Some(TaxCategory::Standard)];
            let mut i = inv(
                currency,
                lines
                    .into_iter()
                    .map(|(q, qs, p, ps, r, c)| {
                        let mut l = Line::new("x", Decimal::new(q, qs), Decimal::new(p, ps)).tax_rate(rates[r]);
                        l.tax_category = categories[c];
                        l
                    })
                    .collect(),
            );
            if huge {
                if let Some(l) = i.lines.first_mut() {
                    l.quantity = Decimal::MAX;
                }
            }
            i.rounding.mode = if even { Rounding::HalfEven } else { Rounding::HalfAwayFromZero };
            i.rounding.tax = if per_line { TaxRounding::PerLine } else { TaxRounding::PerGroup };
            proptest::prop_assert_eq!(exact(&i.totals()), exact(&totals_with_a_map(&i)));
        }
    }

    #[test]
    fn validate_reports_every_violation() {
        let mut i = inv(
            Currency::EUR,
            vec![
                Line::new("x", dec!(-1), dec!(5)),
                Line::new("disc", dec!(1), dec!(5)).kind(LineKind::Discount),
                Line::new("y", dec!(1), dec!(5)).tax_rate(dec!(1.5)),
                Line::new("z", dec!(1), dec!(5)).tax_rate(dec!(0)).tax_category(TaxCategory::Standard),
            ],
        );
        i.kind = Kind::CreditNote { credits: None };
        i.customer.name = " ".into();
        i.customer.email = Some("nope".into());
        i.issue_date = NaiveDate::from_ymd_opt(2026, 3, 10);
        i.due_date = NaiveDate::from_ymd_opt(2026, 3, 1);
        let codes: Vec<_> = i.validate().into_iter().map(|v| format!("{}@{}", v.code.as_str(), v.path)).collect();
        assert_eq!(
            codes,
            [
                "missing_customer_name@customer.name",
                "invalid_email@customer.email",
                "due_before_issue@due_date",
                "negative_quantity@lines[0].quantity",
                "positive_discount@lines[1].unit_price",
                "tax_rate_out_of_range@lines[2].tax_rate",
                "tax_category_mismatch@lines[3].tax_category",
            ]
        );
    }

    #[test]
    fn content_hash_ignores_status_and_sees_content() {
        let a = inv(Currency::EUR, vec![Line::new("a", dec!(1), dec!(1))]);
        let mut b = a.clone();
        b.revision = 9;
        b.status.delivery = crate::status::Delivery::Sent;
        assert_eq!(a.content_hash(), b.content_hash());
        b.memo = "changed".into();
        assert_ne!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash().to_string().len(), 64);
        let text = serde_json::to_string(&a.content_hash()).unwrap();
        assert_eq!(serde_json::from_str::<ContentHash>(&text).unwrap(), a.content_hash());
    }
}
