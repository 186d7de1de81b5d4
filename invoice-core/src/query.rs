//! Read-only views of the book: the back-office backlog (filter, sort, group with subtotals)
//! and the per-project report of billed, processed and paid amounts.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::book::Book;
use crate::error::{Error, Result};
use crate::invoice::{Invoice, InvoiceId, Line, Period, Totals};
use crate::money::{positive_zero, Currency, Money};
use crate::status::{Accounting, Axis, AxisState, Delivery, Document, Payment};

/// A column of the backlog, to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Invoice number.
    Number,
    /// Customer name.
    Customer,
    /// Project.
    Project,
    /// Office/location.
    Location,
    /// Billing period (start, then end).
    BillingPeriod,
    /// Issue date.
    IssueDate,
    /// Due date.
    DueDate,
    /// Currency code.
    Currency,
    /// Net amount (compared as numbers, whatever the currency).
    Net,
    /// Gross amount (compared as numbers, whatever the currency).
    Gross,
    /// Kind.
    Kind,
    /// Invoice type.
    InvoiceType,
    /// One status axis.
    Status(Axis),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first.
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// What to group the backlog by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Customer (id and name).
    Customer,
    /// Office/location.
    Location,
    /// Billing period.
    BillingPeriod,
    /// Project.
    Project,
    /// The state on one axis.
    Status(Axis),
}

/// Filters and sort order of a backlog query. Every filter left empty matches everything;
/// the backlog is always limited to issued invoices that are not processed.
///
/// ```
/// use invoice_core::{BacklogQuery, Column, Order, Accounting};
/// use rust_decimal_macros::dec;
/// let query = BacklogQuery::default()
///     .accounting([Accounting::Pending, Accounting::Exported])
///     .customer("C1")
///     .amount_range(Some(dec!(100)), None)
///     .sort_by(Column::Gross, Order::Descending);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogQuery {
    /// Document states to keep (only `issued` is ever in the backlog).
    pub document: Vec<Document>,
    /// Delivery states to keep.
    pub delivery: Vec<Delivery>,
    /// Accounting states to keep.
    pub accounting: Vec<Accounting>,
    /// Payment states to keep.
    pub payment: Vec<Payment>,
    /// Customer id.
    pub customer: Option<String>,
    /// Project.
    pub project: Option<String>,
    /// Office/location.
    pub location: Option<String>,
    /// Billing period (exact).
    pub billing_period: Option<Period>,
    /// Issue date from (inclusive).
    pub issued_from: Option<NaiveDate>,
    /// Issue date up to (inclusive).
    pub issued_to: Option<NaiveDate>,
    /// Smallest gross amount (inclusive).
    pub min_amount: Option<Decimal>,
    /// Largest gross amount (inclusive).
    pub max_amount: Option<Decimal>,
    /// Kind names (`invoice`, `credit_note`, `adjustment`).
    pub kinds: Vec<String>,
    /// Invoice type.
    pub invoice_type: Option<String>,
    /// Sort keys, most significant first; ties keep id order.
    pub sort: Vec<(Column, Order)>,
}

macro_rules! query_setters {
    ($($(#[$doc:meta])* $name:ident($v:ident: $ty:ty) => $body:expr;)*) => {
        impl BacklogQuery {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, $v: $ty) -> Self {
                    $body(&mut self);
                    self
                }
            )*
        }
    };
}

query_setters! {
    /// Keep these document states.
    document(s: impl IntoIterator<Item = Document>) => |q: &mut Self| q.document = s.into_iter().collect();
    /// Keep these delivery states.
    delivery(s: impl IntoIterator<Item = Delivery>) => |q: &mut Self| q.delivery = s.into_iter().collect();
    /// Keep these accounting states.
    accounting(s: impl IntoIterator<Item = Accounting>) => |q: &mut Self| q.accounting = s.into_iter().collect();
    /// Keep these payment states.
    payment(s: impl IntoIterator<Item = Payment>) => |q: &mut Self| q.payment = s.into_iter().collect();
    /// Keep one customer (by id).
    customer(id: impl Into<String>) => |q: &mut Self| q.customer = Some(id.into());
    /// Keep one project.
    project(p: impl Into<String>) => |q: &mut Self| q.project = Some(p.into());
    /// Keep one office/location.
    location(l: impl Into<String>) => |q: &mut Self| q.location = Some(l.into());
    /// Keep one billing period.
    billing_period(p: Period) => |q: &mut Self| q.billing_period = Some(p);
    /// Keep one invoice type.
    invoice_type(t: impl Into<String>) => |q: &mut Self| q.invoice_type = Some(t.into());
    /// Keep these kinds (`invoice`, `credit_note`, `adjustment`).
    kinds(k: impl IntoIterator<Item = &'static str>) => |q: &mut Self| q.kinds = k.into_iter().map(String::from).collect();
}

impl BacklogQuery {
    /// Add a sort key (the first one added is the most significant).
    #[must_use]
    pub fn sort_by(mut self, column: Column, order: Order) -> Self {
        self.sort.push((column, order));
        self
    }

    /// Keep issue dates within `from..=to` (either end open).
    #[must_use]
    pub fn issued_between(mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        self.issued_from = from;
        self.issued_to = to;
        self
    }

    /// Keep gross amounts within `min..=max` (either end open).
    #[must_use]
    pub fn amount_range(mut self, min: Option<Decimal>, max: Option<Decimal>) -> Self {
        self.min_amount = min;
        self.max_amount = max;
        self
    }

    fn matches(&self, inv: &Invoice, totals: &Totals) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let s = inv.status;
        (self.document.is_empty() || self.document.contains(&s.document))
            && (self.delivery.is_empty() || self.delivery.contains(&s.delivery))
            && (self.accounting.is_empty() || self.accounting.contains(&s.accounting))
            && (self.payment.is_empty() || self.payment.contains(&s.payment))
            && self.customer.as_ref().is_none_or(|c| *c == inv.customer.id)
            && eq(&self.project, &inv.project)
            && eq(&self.location, &inv.location)
            && eq(&self.invoice_type, &inv.invoice_type)
            && self.billing_period.is_none_or(|p| Some(p) == inv.billing_period)
            && self.issued_from.is_none_or(|d| inv.issue_date.is_some_and(|i| i >= d))
            && self.issued_to.is_none_or(|d| inv.issue_date.is_some_and(|i| i <= d))
            && self.min_amount.is_none_or(|m| totals.gross >= m)
            && self.max_amount.is_none_or(|m| totals.gross <= m)
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == inv.kind.name()))
    }
}

/// One invoice of the backlog with its computed totals.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// The invoice.
    pub invoice: &'a Invoice,
    /// Its totals.
    pub totals: Totals,
}

impl<'a> Row<'a> {
    /// The invoice's lines, each with its rounded net.
    pub fn lines(&self) -> impl Iterator<Item = (&'a Line, Decimal)> + '_ {
        self.invoice.lines.iter().zip(self.totals.line_nets.iter().copied())
    }
}

/// Totals of a group in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtotal {
    /// Invoices in this currency.
    pub count: usize,
    /// Sum of nets.
    #[serde(with = "rust_decimal::serde::str")]
    pub net: Decimal,
    /// Sum of taxes.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    /// Sum of grosses.
    #[serde(with = "rust_decimal::serde::str")]
    pub gross: Decimal,
}

/// One group of the backlog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's key as shown (customer "id name", period "start..end", a status name; "" for none).
    pub key: String,
    /// Invoices in the group.
    pub count: usize,
    /// Totals per currency (amounts of different currencies are never added).
    pub totals: BTreeMap<Currency, Subtotal>,
    /// The invoices, in the query's sort order.
    pub invoices: Vec<InvoiceId>,
}

fn cmp_column(c: Column, a: &Row<'_>, b: &Row<'_>) -> Ordering {
    let (x, y) = (a.invoice, b.invoice);
    match c {
        Column::Number => x.number.cmp(&y.number),
        Column::Customer => x.customer.name.cmp(&y.customer.name),
        Column::Project => x.project.cmp(&y.project),
        Column::Location => x.location.cmp(&y.location),
        Column::BillingPeriod => x.billing_period.cmp(&y.billing_period),
        Column::IssueDate => x.issue_date.cmp(&y.issue_date),
        Column::DueDate => x.due_date.cmp(&y.due_date),
        Column::Currency => x.currency.code().cmp(y.currency.code()),
        Column::Net => a.totals.net.cmp(&b.totals.net),
        Column::Gross => a.totals.gross.cmp(&b.totals.gross),
        Column::Kind => x.kind.name().cmp(y.kind.name()),
        Column::InvoiceType => x.invoice_type.cmp(&y.invoice_type),
        Column::Status(Axis::Document) => x.status.document.cmp(&y.status.document),
        Column::Status(Axis::Delivery) => x.status.delivery.cmp(&y.status.delivery),
        Column::Status(Axis::Accounting) => x.status.accounting.cmp(&y.status.accounting),
        Column::Status(Axis::Payment) => x.status.payment.cmp(&y.status.payment),
    }
}

fn group_key(by: GroupBy, inv: &Invoice) -> String {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    match by {
        GroupBy::Customer => format!("{} {}", inv.customer.id, inv.customer.name),
        GroupBy::Location => opt(&inv.location),
        GroupBy::Project => opt(&inv.project),
        GroupBy::BillingPeriod => inv.billing_period.map(|p| p.to_string()).unwrap_or_default(),
        GroupBy::Status(Axis::Document) => inv.status.document.name().into(),
        GroupBy::Status(Axis::Delivery) => inv.status.delivery.name().into(),
        GroupBy::Status(Axis::Accounting) => inv.status.accounting.name().into(),
        GroupBy::Status(Axis::Payment) => inv.status.payment.name().into(),
    }
}

fn add(acc: &mut Decimal, v: Decimal) -> Result<()> {
    *acc = acc.checked_add(v).ok_or(Error::Overflow { context: "backlog totals" })?;
    Ok(())
}

/// Billed, processed and paid totals of one project in one currency. Credit notes count
/// negative (their money goes back); void invoices and drafts do not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReport {
    /// Project ("" for invoices without one).
    pub project: String,
    /// Currency.
    pub currency: Currency,
    /// Issued invoices.
    pub invoices: usize,
    /// Gross of issued invoices, less credit notes.
    #[serde(with = "rust_decimal::serde::str")]
    pub billed: Decimal,
    /// Gross of processed invoices, less processed credit notes.
    #[serde(with = "rust_decimal::serde::str")]
    pub processed: Decimal,
    /// Payments received, less refunds recorded on credit notes.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
}

impl Book {
    /// The backlog: issued invoices not yet processed, filtered and sorted by `query`.
    pub fn backlog(&self, query: &BacklogQuery) -> Result<Vec<Row<'_>>> {
        let mut rows = Vec::new();
        for inv in self.invoices() {
            if inv.status.document != Document::Issued || inv.status.accounting == Accounting::Processed {
                continue;
            }
            let totals = inv.totals()?;
            if query.matches(inv, &totals) {
                rows.push(Row { invoice: inv, totals });
            }
        }
        if !query.sort.is_empty() {
            rows.sort_by(|a, b| {
                for (column, order) in &query.sort {
                    let o = cmp_column(*column, a, b);
                    let o = if *order == Order::Descending { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        Ok(rows)
    }

    /// The backlog grouped by `by`, with count and totals per currency for each group. Groups
    /// come in key order; invoices within a group keep the query's order.
    pub fn backlog_groups(&self, query: &BacklogQuery, by: GroupBy) -> Result<Vec<Group>> {
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for row in self.backlog(query)? {
            let key = group_key(by, row.invoice);
            let g = groups.entry(key.clone()).or_insert_with(|| Group {
                key,
                count: 0,
                totals: BTreeMap::new(),
                invoices: Vec::new(),
            });
            g.count += 1;
            g.invoices.push(row.invoice.id);
            let s = g.totals.entry(row.totals.currency).or_default();
            s.count += 1;
            add(&mut s.net, row.totals.net)?;
            add(&mut s.tax, row.totals.tax)?;
            add(&mut s.gross, row.totals.gross)?;
        }
        Ok(groups.into_values().collect())
    }

    /// Billed, processed and paid per project and currency, ordered by project then currency.
    pub fn project_report(&self) -> Result<Vec<ProjectReport>> {
        let mut out: BTreeMap<(String, Currency), ProjectReport> = BTreeMap::new();
        for inv in self.invoices() {
            if inv.status.document != Document::Issued {
                continue;
            }
            let project = inv.project.clone().unwrap_or_default();
            let zero = Money::zero(inv.currency).amount;
            let r = out.entry((project.clone(), inv.currency)).or_insert_with(|| ProjectReport {
                project,
                currency: inv.currency,
                invoices: 0,
                billed: zero,
                processed: zero,
                paid: zero,
            });
            let sign = |d: Decimal| positive_zero(if inv.kind.is_credit() { -d } else { d });
            let gross = sign(inv.totals()?.gross);
            r.invoices += 1;
            add(&mut r.billed, gross)?;
            if inv.status.accounting == Accounting::Processed {
                add(&mut r.processed, gross)?;
            }
            add(&mut r.paid, sign(inv.paid()?))?;
        }
        Ok(out
            .into_values()
            .map(|mut r| {
                for d in [&mut r.billed, &mut r.processed, &mut r.paid] {
                    d.rescale(r.currency.exponent());
                }
                r
            })
            .collect())
    }
}
