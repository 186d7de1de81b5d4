//! [proptest](https://docs.rs/proptest) strategies for the property tests of this crate and of
//! the crates built on it (enabled by the `proptest` feature).
//!
//! - Money: [`currency`] (exponents 0, 2 and 3), [`quantity`], [`unit_price`], [`tax_rate`].
//! - Content: [`line()`], [`lines`], [`invoice`], [`rounding_policy`], [`change`].
//! - Behaviour: [`Op`] is an abstract operation on a [`Book`] whose invoice and batch indexes
//!   are resolved against the book when it runs (modulo the number of invoices or batches, or of
//!   the ones the operation could apply to). [`sequence`] (and [`steps`], [`lifecycle`])
//!   generate sequences of [`Step`]s (an operation and who performs it), and [`run_op`] turns
//!   one into a [`Command`] and applies it.
//!   Refused commands are part of the game: [`run_op`] returns the book's `Result` as it is.
//!
//! Every amount is a [`Decimal`]; nothing here touches floating point, and nothing reads the
//! system clock ([`book`] runs on a [`ManualClock`]).
//!
//! ```
//! use invoice_core::testkit::{self, Actors};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::deterministic();
//! let steps = testkit::sequence().new_tree(&mut runner).unwrap().current();
//! let (mut book, _clock) = testkit::book();
//! let actors = Actors::default();
//! for step in &steps {
//!     let _ = testkit::run_op(&mut book, &actors, step); // refusals are fine
//! }
//! assert_eq!(invoice_core::Book::replay(book.journal().to_vec()).unwrap(), book);
//! ```

use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveTime};
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::batch::{Batch, BatchState, ExportBatch, ExportResult, Outcome, Target};
use crate::book::{Book, Settings};
use crate::clock::ManualClock;
use crate::command::{Change, Command, Envelope};
use crate::error::Result;
use crate::invoice::{BatchId, Customer, Invoice, InvoiceId, Kind, Line, LineKind, PaymentRecord, Period, TaxCategory};
use crate::money::{Currency, Rounding, RoundingPolicy, TaxRounding};
use crate::policy::{Actor, Role};
use crate::status::{Accounting, Delivery, Document, Payment};

/// The first day of the billing period of generated invoices (2026-11-01).
pub const PERIOD_START: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last day of the billing period of generated invoices (2026-11-30); [`book`] starts
/// its clock on this day at 09:00 UTC.
pub const PERIOD_END: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 30) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The export targets that [`Op::Batch`] chooses from (by index, modulo their number).
pub const TARGETS: &[(&str, &str)] = &[("qbxml", "Demo Co"), ("xero", "Demo Ltd"), ("ubl", "Peppol AP")];

/// The target with index `i` of [`TARGETS`] (modulo their number).
pub fn target(i: usize) -> Target {
    let (format, company) = TARGETS[i % TARGETS.len()];
    Target::new(format, company)
}

/// An empty book with the default settings on a [`ManualClock`] standing at 2026-11-30
/// 09:00 UTC. Keep the returned clock to move time forward between steps.
pub fn book() -> (Book, Arc<ManualClock>) {
    let start = PERIOD_END.and_time(NaiveTime::MIN).and_utc() + Duration::hours(9);
    let clock = Arc::new(ManualClock::new(start));
    (Book::with_clock(Settings::default(), Arc::clone(&clock)), clock)
}

// ------------------------------------------------------------------------------------ money

/// Currencies with minor-unit exponents 0 (JPY, KRW, CLP, ISK), 2 (EUR, USD, GBP, CHF) and
/// 3 (KWD, BHD, TND, OMR).
pub fn currency() -> impl Strategy<Value = Currency> {
    select(vec![
        Currency::JPY,
        Currency::KRW,
        Currency::CLP,
        Currency::ISK,
        Currency::EUR,
        Currency::USD,
        Currency::GBP,
        Currency::CHF,
        Currency::KWD,
        Currency::BHD,
        Currency::TND,
        Currency::OMR,
    ])
}

/// A non-negative decimal below `whole` (an integer bound, at least 1) with at most `max_dp`
/// decimals (at most 18); the scale itself is random too, so `2`, `2.0` and `2.000` all occur.
pub fn decimal(whole: i64, max_dp: u32) -> impl Strategy<Value = Decimal> {
    let whole = whole.max(1);
    (0..=max_dp.min(18)).prop_flat_map(move |dp| {
        let unit = 10i64.checked_pow(dp).unwrap_or(i64::MAX);
        (0..whole.saturating_mul(unit)).prop_map(move |m| Decimal::new(m, dp))
    })
}

/// A quantity from 0 up to (not including) 10 000 with at most 3 decimals; small values are
/// favoured (hours and pieces).
pub fn quantity() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => decimal(100, 3),
        1 => decimal(10_000, 3),
        1 => select(vec![Decimal::ZERO, Decimal::ONE, Decimal::new(5, 1), Decimal::new(125, 3)]),
    ]
}

/// A unit price from 0 up to (not including) 100 000 with at most 4 decimals.
pub fn unit_price() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => decimal(1_000, 4),
        1 => decimal(100_000, 4),
        1 => select(vec![Decimal::ZERO, Decimal::new(1, 2), Decimal::new(5, 3), Decimal::new(9999, 2)]),
    ]
}

/// A tax rate as a fraction: 0, 5 %, 7 %, 8.25 %, 10 %, 19 % (also spelled `0.190`), 20 %,
/// 21 %, 23 %, 25 %.
pub fn tax_rate() -> impl Strategy<Value = Decimal> {
    select(vec![
        Decimal::ZERO,
        Decimal::new(5, 2),
        Decimal::new(7, 2),
        Decimal::new(825, 4),
        Decimal::new(10, 2),
        Decimal::new(19, 2),
        Decimal::new(190, 3),
        Decimal::new(2, 1),
        Decimal::new(21, 2),
        Decimal::new(23, 2),
        Decimal::new(25, 2),
    ])
}

/// A tax category that goes with `rate`: none or Standard above zero; none or one of the
/// zero-rate categories at zero.
fn category_for(rate: Decimal) -> BoxedStrategy<Option<TaxCategory>> {
    if rate.is_zero() {
        select(vec![
            None,
            Some(TaxCategory::ZeroRated),
            Some(TaxCategory::Exempt),
            Some(TaxCategory::ReverseCharge),
            Some(TaxCategory::IntraCommunity),
            Some(TaxCategory::Export),
            Some(TaxCategory::OutsideScope),
        ])
        .boxed()
    } else {
        select(vec![None, Some(TaxCategory::Standard)]).boxed()
    }
}

/// A rounding policy: either half-way rule, tax per group or per line.
pub fn rounding_policy() -> impl Strategy<Value = RoundingPolicy> {
    (
        select(vec![Rounding::HalfAwayFromZero, Rounding::HalfEven]),
        select(vec![TaxRounding::PerGroup, TaxRounding::PerLine]),
    )
        .prop_map(|(mode, tax)| RoundingPolicy { mode, tax })
}

// ---------------------------------------------------------------------------------- content

/// The kind of a generated line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Service,
    Expense,
    Discount,
    Deferred,
}

/// A valid line for an invoice in `currency`: a service, an expense, a discount (its unit price
/// is negative, so its net is zero or less) or deferred revenue, with a tax rate and a tax
/// category that go together. Prices of currencies without minor units get fewer decimals.
pub fn line(currency: Currency) -> impl Strategy<Value = Line> {
    line_of(currency, false)
}

/// Like [`line()`], but never a discount (for credit notes, which carry positive amounts).
pub fn positive_line(currency: Currency) -> impl Strategy<Value = Line> {
    line_of(currency, true)
}

fn line_of(currency: Currency, positive: bool) -> BoxedStrategy<Line> {
    let shapes = if positive {
        vec![Shape::Service, Shape::Service, Shape::Expense, Shape::Deferred]
    } else {
        vec![Shape::Service, Shape::Service, Shape::Expense, Shape::Discount, Shape::Deferred]
    };
    let price_dp = (currency.exponent() + 2).min(4);
    let price = prop_oneof![3 => decimal(1_000, price_dp), 1 => unit_price()];
    (select(shapes), quantity(), price, tax_rate(), 0u32..30)
        .prop_flat_map(|(shape, quantity, price, rate, day)| {
            category_for(rate).prop_map(move |category| {
                let (description, kind, unit_price, quantity) = match shape {
                    Shape::Service => ("Consulting, November", LineKind::Service, price, quantity),
                    Shape::Expense => ("Travel expenses\nTrain and hotel", LineKind::Expense, price, quantity),
                    Shape::Discount => ("Loyalty discount", LineKind::Discount, -price, quantity.min(Decimal::TEN)),
                    Shape::Deferred => {
                        ("Down payment (deferred revenue)", LineKind::DeferredRevenue, price, Decimal::ONE)
                    }
                };
                let mut line = Line::new(description, quantity, unit_price).tax_rate(rate).kind(kind);
                line.tax_category = category;
                if shape == Shape::Service {
                    line = line.item("CONS").gl_account("8400");
                    if let Some(date) = PERIOD_START.checked_add_signed(Duration::days(i64::from(day))) {
                        line = line.service_date(date);
                    }
                }
                line
            })
        })
        .boxed()
}

/// Up to `max` lines (see [`line()`]; with `positive`, see [`positive_line`]).
pub fn lines(currency: Currency, max: usize, positive: bool) -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(line_of(currency, positive), 0..=max)
}

/// Customers, some with names outside ASCII.
fn customer() -> impl Strategy<Value = Customer> {
    select(vec![
        ("C1", "Müller GmbH"),
        ("C2", "Łukasz Nowak"),
        ("C3", "Ødegård AS"),
        ("C4", "株式会社サンプル"),
        ("C5", "ACME & Sons, Inc."),
    ])
    .prop_map(|(id, name)| Customer::new(id, name))
}

/// A draft built with [`Invoice::builder`]: any [`currency`], 0 to 7 lines, sometimes a
/// credit note (which has positive lines only), any [`rounding_policy`], sometimes a project,
/// a location and a due date.
pub fn invoice() -> impl Strategy<Value = Invoice> {
    (currency(), any::<bool>(), 0u8..4)
        .prop_flat_map(|(currency, credit_roll, extras)| {
            let credit = credit_roll && extras == 0;
            (
                Just(currency),
                Just(credit),
                customer(),
                prop::collection::vec(line_of(currency, credit), 0..8),
                rounding_policy(),
                Just(extras),
            )
        })
        .prop_map(|(currency, credit, customer, lines, rounding, extras)| {
            let mut b = Invoice::builder(customer, currency)
                .billing_period(Period::new(PERIOD_START, PERIOD_END))
                .lines(lines)
                .rounding(rounding);
            if credit {
                b = b.kind(Kind::CreditNote { credits: None });
            }
            if extras & 1 == 1 {
                b = b.project("PRJ-0042 ERP rollout").location("Berlin");
            }
            if extras >= 2 {
                if let Some(due) = PERIOD_END.checked_add_signed(Duration::days(30)) {
                    b = b.due_date(due).memo("Payable within 30 days.");
                }
            }
            b.build()
        })
}

/// One content change for [`Op::Edit`]: memo, location, invoice type, project, due date, lines,
/// rounding, currency or kind. Some are refused in some states, which is the point.
pub fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => select(vec!["Thank you.", "Bitte überweisen Sie bis zum Monatsende.", ""])
            .prop_map(|m| Change::Memo(m.to_string())),
        2 => select(vec![None, Some("Berlin"), Some("Kraków")])
            .prop_map(|l| Change::Location(l.map(str::to_string))),
        1 => select(vec![None, Some("retainer"), Some("T&M")])
            .prop_map(|t| Change::InvoiceType(t.map(str::to_string))),
        1 => select(vec![None, Some("PRJ-7")]).prop_map(|p| Change::Project(p.map(str::to_string))),
        1 => (0i64..60).prop_map(|d| Change::DueDate(PERIOD_END.checked_add_signed(Duration::days(d)))),
        3 => currency().prop_flat_map(|c| lines(c, 4, false)).prop_map(Change::Lines),
        1 => rounding_policy().prop_map(Change::Rounding),
        1 => currency().prop_map(Change::Currency),
        1 => select(vec![Kind::Invoice, Kind::CreditNote { credits: None }]).prop_map(Change::Kind),
    ]
}

// ------------------------------------------------------------------------------- operations

/// One index into something of the book, resolved when the operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ix {
    /// Resolve among the candidates the operation could apply to (when there are any) rather
    /// than among all invoices or batches.
    pub eligible: bool,
    /// The index, taken modulo the number of candidates.
    pub n: usize,
}

/// A selection of indexes, resolved like [`Ix`]. Resolving among the candidates drops
/// duplicates; resolving among all keeps them (and the book refuses the selection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sel {
    /// See [`Ix::eligible`].
    pub eligible: bool,
    /// The indexes (possibly none: the book refuses an empty selection).
    pub ns: Vec<usize>,
}

/// How much [`Op::Pay`] pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// Everything outstanding.
    Full,
    /// Half the outstanding amount, cut to the minor unit.
    Half,
    /// One minor unit.
    MinorUnit,
    /// One minor unit more than is outstanding (refused).
    Over,
    /// One digit more than the currency has (refused).
    TooPrecise,
    /// Zero (refused).
    Zero,
}

/// Whether and how [`Op::Batch`] forces a re-export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// No force.
    No,
    /// Force with a reason.
    Reason,
    /// Force with a blank reason (refused).
    Blank,
}

/// What [`Op::RecordResults`] reports for one open invoice of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Exported.
    Exported,
    /// Skipped, with a reason.
    Skipped,
    /// Failed, with a message.
    Failed,
    /// Not reported this time.
    Omitted,
}

/// An abstract operation on a book. Invoice and batch indexes are resolved against the book
/// by [`command`]; see [`Ix`] and [`Sel`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Create drafts.
    Create(Vec<Invoice>),
    /// Edit an invoice.
    Edit {
        /// The invoice (eligible: not void, not exported).
        invoice: Ix,
        /// The changes.
        changes: Vec<Change>,
    },
    /// Issue drafts (eligible: drafts).
    Issue(Sel),
    /// Void an invoice (eligible: not void, not exported, in no batch, unpaid).
    Void(Ix),
    /// Mark invoices ready to send (eligible: issued and not sent).
    MarkReadyToSend(Sel),
    /// Mark invoices sent (eligible: issued and not sent).
    MarkSent(Sel),
    /// Record a payment (eligible: issued and not paid).
    Pay {
        /// The invoice.
        invoice: Ix,
        /// How much.
        amount: Amount,
    },
    /// Create a credit note for an invoice (eligible: issued), for all of its lines or the first.
    CreditNote {
        /// The invoice credited.
        invoice: Ix,
        /// Credit only the first line.
        first_line_only: bool,
    },
    /// Create an adjustment for an invoice (eligible: exported).
    Adjustment {
        /// The invoice corrected.
        invoice: Ix,
        /// The correcting lines.
        lines: Vec<Line>,
    },
    /// Create an export batch (eligible: issued and in no batch).
    Batch {
        /// The selection.
        invoices: Sel,
        /// Index into [`TARGETS`].
        target: usize,
        /// Force a re-export.
        force: Force,
    },
    /// Post an export batch (eligible: open ones).
    Post(Ix),
    /// Unpost an export batch (eligible: posted, nothing exported yet).
    Unpost(Ix),
    /// Discard an export batch (eligible: open ones).
    Discard(Ix),
    /// Record export results for the open invoices of a batch, in order (eligible: posted).
    RecordResults {
        /// The batch.
        batch: Ix,
        /// One report per open invoice, cycled.
        reports: Vec<Report>,
        /// Also report an invoice of the book that is not in the batch (refused).
        stray: bool,
    },
    /// Mark the rest of a batch exported without a file (eligible: posted).
    MarkExported(Ix),
    /// Withdraw invoices from an export batch (eligible: batches not closed; the invoices are
    /// then resolved among its open ones).
    Withdraw {
        /// The batch.
        batch: Ix,
        /// The invoices.
        invoices: Sel,
    },
    /// Process invoices (eligible: exported, not processed).
    Process {
        /// The selection.
        invoices: Sel,
        /// Expect one invoice more than selected (refused).
        wrong_count: bool,
    },
    /// Undo the book's last process batch still in effect.
    UndoLast,
    /// Undo any batch (eligible: process batches; mostly refused).
    Undo(Ix),
    /// Un-process one invoice (eligible: processed).
    Unprocess(Ix),
    /// Record the accounting system's reference (eligible: issued).
    RecordReference {
        /// The invoice.
        invoice: Ix,
        /// The reference (blank is refused).
        reference: String,
    },
}

/// Who performs a [`Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// An administrator: allowed everything.
    Admin,
    /// Finance: not allowed to post, export, process or undo.
    Finance,
    /// A viewer: allowed nothing.
    Viewer,
}

/// The actors of the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actors {
    /// Administrator.
    pub admin: Actor,
    /// Finance.
    pub finance: Actor,
    /// Viewer.
    pub viewer: Actor,
}

impl Default for Actors {
    fn default() -> Actors {
        Actors {
            admin: Actor::new("ana", Role::Administrator),
            finance: Actor::new("fred", Role::Finance),
            viewer: Actor::new("vera", Role::Viewer),
        }
    }
}

impl Actors {
    /// The actor for `who`.
    pub fn get(&self, who: Who) -> &Actor {
        match who {
            Who::Admin => &self.admin,
            Who::Finance => &self.finance,
            Who::Viewer => &self.viewer,
        }
    }
}

/// One step of a sequence: who does what.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The actor.
    pub who: Who,
    /// The operation.
    pub op: Op,
}

/// An [`Ix`], eligible nine times in ten.
pub fn ix() -> impl Strategy<Value = Ix> {
    (prop::bool::weighted(0.9), 0usize..64).prop_map(|(eligible, n)| Ix { eligible, n })
}

/// A [`Sel`] of 0 to `max` indexes (mostly at least one), eligible nine times in ten.
pub fn sel(max: usize) -> impl Strategy<Value = Sel> {
    let max = max.max(1);
    (prop::bool::weighted(0.9), prop_oneof![19 => prop::collection::vec(0usize..64, 1..=max), 1 => Just(Vec::new())])
        .prop_map(|(eligible, ns)| Sel { eligible, ns })
}

/// Who: mostly the administrator, sometimes finance, now and then a viewer.
pub fn who() -> impl Strategy<Value = Who> {
    prop_oneof![36 => Just(Who::Admin), 3 => Just(Who::Finance), 1 => Just(Who::Viewer)]
}

fn force() -> impl Strategy<Value = Force> {
    prop_oneof![6 => Just(Force::No), 3 => Just(Force::Reason), 1 => Just(Force::Blank)]
}

fn report() -> impl Strategy<Value = Report> {
    prop_oneof![
        6 => Just(Report::Exported),
        1 => Just(Report::Skipped),
        2 => Just(Report::Failed),
        1 => Just(Report::Omitted),
    ]
}

fn batch_op() -> impl Strategy<Value = Op> {
    (sel(4), 0usize..TARGETS.len(), force()).prop_map(|(invoices, target, force)| Op::Batch { invoices, target, force })
}

fn results_op() -> impl Strategy<Value = Op> {
    (ix(), prop::collection::vec(report(), 1..5), prop::bool::weighted(0.05))
        .prop_map(|(batch, reports, stray)| Op::RecordResults { batch, reports, stray })
}

fn withdraw_op() -> impl Strategy<Value = Op> {
    (ix(), sel(2)).prop_map(|(batch, invoices)| Op::Withdraw { batch, invoices })
}

fn edit_op() -> impl Strategy<Value = Op> {
    (ix(), prop::collection::vec(change(), 1..3)).prop_map(|(invoice, changes)| Op::Edit { invoice, changes })
}

fn process_op() -> impl Strategy<Value = Op> {
    (sel(3), prop::bool::weighted(0.1)).prop_map(|(invoices, wrong_count)| Op::Process { invoices, wrong_count })
}

/// One [`Op`], any of them, weighted towards the life cycle (issue, batch, post, export,
/// process, undo) but with every refused path too.
pub fn op() -> impl Strategy<Value = Op> {
    let amount =
        select(vec![Amount::Full, Amount::Half, Amount::MinorUnit, Amount::Over, Amount::TooPrecise, Amount::Zero]);
    let reference = select(vec!["QB-1001", "INV/2026/77", " "]).prop_map(str::to_string);
    prop_oneof![
        4 => prop::collection::vec(invoice(), 1..3).prop_map(Op::Create),
        3 => edit_op(),
        6 => sel(3).prop_map(Op::Issue),
        1 => ix().prop_map(Op::Void),
        1 => sel(2).prop_map(Op::MarkReadyToSend),
        2 => sel(2).prop_map(Op::MarkSent),
        2 => (ix(), amount).prop_map(|(invoice, amount)| Op::Pay { invoice, amount }),
        1 => (ix(), any::<bool>()).prop_map(|(invoice, first_line_only)| Op::CreditNote { invoice, first_line_only }),
        1 => (ix(), lines(Currency::EUR, 2, false)).prop_map(|(invoice, lines)| Op::Adjustment { invoice, lines }),
        6 => batch_op(),
        6 => ix().prop_map(Op::Post),
        1 => ix().prop_map(Op::Unpost),
        1 => ix().prop_map(Op::Discard),
        6 => results_op(),
        2 => ix().prop_map(Op::MarkExported),
        2 => withdraw_op(),
        6 => process_op(),
        3 => Just(Op::UndoLast),
        1 => ix().prop_map(Op::Undo),
        3 => ix().prop_map(Op::Unprocess),
        1 => (ix(), reference).prop_map(|(invoice, reference)| Op::RecordReference { invoice, reference }),
    ]
}

/// One [`Step`]: an [`op`] by a [`who`].
pub fn step() -> impl Strategy<Value = Step> {
    (who(), op()).prop_map(|(who, op)| Step { who, op })
}

/// A sequence of random steps whose length lies in `len`. Most sequences start with a few
/// drafts so that the operations have something to work on.
pub fn steps(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
    (prop::bool::weighted(0.8), prop::collection::vec(invoice(), 1..6), prop::collection::vec(step(), len)).prop_map(
        |(seed, drafts, mut steps)| {
            if seed {
                steps.insert(0, Step { who: Who::Admin, op: Op::Create(drafts) });
            }
            steps
        },
    )
}

/// One round of the life cycle: most of create, issue, batch, post, export, process and then
/// undo or un-process, in that order, now and then with a detour before or after posting
/// (discard, unpost, withdraw, edit). Each stage may be left out, and may be refused. Up to
/// five random steps follow.
pub fn lifecycle() -> impl Strategy<Value = Vec<Step>> {
    let stages = (
        prop::option::weighted(0.6, prop::collection::vec(invoice(), 1..4).prop_map(Op::Create)),
        prop::option::weighted(0.9, sel(3).prop_map(Op::Issue)),
        prop::option::weighted(0.8, batch_op()),
        prop::option::weighted(0.2, prop_oneof![ix().prop_map(Op::Discard), withdraw_op(), edit_op()]),
        prop::option::weighted(0.8, ix().prop_map(Op::Post)),
        prop::option::weighted(0.2, prop_oneof![ix().prop_map(Op::Unpost), withdraw_op(), edit_op()]),
        prop::option::weighted(0.85, prop_oneof![4 => results_op(), 1 => ix().prop_map(Op::MarkExported)]),
        prop::option::weighted(0.75, process_op()),
        prop::option::weighted(0.6, prop_oneof![2 => Just(Op::UndoLast), 1 => ix().prop_map(Op::Unprocess)]),
    );
    (stages, prop::collection::vec(who(), 9), prop::collection::vec(step(), 0..6)).prop_map(|(stages, who, random)| {
        let (create, issue, batch, open, post, posted, export, process, undo) = stages;
        let ops = [create, issue, batch, open, post, posted, export, process, undo];
        let mut steps: Vec<Step> =
            ops.into_iter().zip(who).filter_map(|(op, who)| op.map(|op| Step { who, op })).collect();
        steps.extend(random);
        steps
    })
}

/// The sequences the property tests run: a third are [`steps`] of up to 60 random steps, the
/// others one to seven [`lifecycle`] rounds (so that invoices get all the way through
/// processing and undo, and do it again).
pub fn sequence() -> impl Strategy<Value = Vec<Step>> {
    prop_oneof![
        1 => steps(0..60),
        2 => prop::collection::vec(lifecycle(), 1..8).prop_map(|rounds| rounds.into_iter().flatten().collect()),
    ]
}

// --------------------------------------------------------------------------------- resolving

fn invoice_id(book: &Book, ix: Ix, eligible: impl Fn(&Invoice) -> bool) -> InvoiceId {
    let candidates: Vec<InvoiceId> =
        if ix.eligible { book.invoices().iter().filter(|i| eligible(i)).map(|i| i.id).collect() } else { Vec::new() };
    if let Some(id) = candidates.get(ix.n % candidates.len().max(1)) {
        return *id;
    }
    let all = book.invoices();
    match all.get(ix.n % all.len().max(1)) {
        Some(i) => i.id,
        // No invoice yet: an id the book does not know (refused).
        None => InvoiceId(ix.n as u64 + 1),
    }
}

fn invoice_ids(book: &Book, sel: &Sel, eligible: impl Fn(&Invoice) -> bool) -> Vec<InvoiceId> {
    let candidates: Vec<InvoiceId> = book.invoices().iter().filter(|i| eligible(i)).map(|i| i.id).collect();
    if sel.eligible && !candidates.is_empty() {
        let mut out: Vec<InvoiceId> = Vec::with_capacity(sel.ns.len());
        for n in &sel.ns {
            let id = candidates[n % candidates.len()];
            if !out.contains(&id) {
                out.push(id);
            }
        }
        return out;
    }
    let all = book.invoices();
    sel.ns
        .iter()
        .map(|n| match all.get(n % all.len().max(1)) {
            Some(i) => i.id,
            None => InvoiceId(*n as u64 + 1),
        })
        .collect()
}

fn batch_id(book: &Book, ix: Ix, eligible: impl Fn(&Batch) -> bool) -> BatchId {
    let all = book.batches();
    let candidates: Vec<BatchId> =
        if ix.eligible { all.iter().filter(|b| eligible(b)).map(Batch::id).collect() } else { Vec::new() };
    if let Some(id) = candidates.get(ix.n % candidates.len().max(1)) {
        return *id;
    }
    match all.get(ix.n % all.len().max(1)) {
        Some(b) => b.id(),
        None => BatchId(ix.n as u64 + 1),
    }
}

fn export_in(state: BatchState) -> impl Fn(&Batch) -> bool {
    move |b| matches!(b, Batch::Export(e) if e.state == state)
}

fn issued(i: &Invoice) -> bool {
    i.status.document == Document::Issued
}

/// The smallest positive amount of `currency` (1, 0.01, 0.001).
fn minor_unit(currency: Currency) -> Decimal {
    Decimal::new(1, currency.exponent())
}

fn payment_amount(book: &Book, id: InvoiceId, amount: Amount) -> Decimal {
    let Ok(inv) = book.invoice(id) else {
        return Decimal::ONE;
    };
    let unit = minor_unit(inv.currency);
    let outstanding = match (inv.totals(), inv.paid()) {
        (Ok(t), Ok(paid)) => t.gross.checked_sub(paid).unwrap_or(Decimal::ZERO),
        _ => Decimal::ZERO,
    };
    match amount {
        Amount::Full => outstanding,
        Amount::Half => {
            (outstanding / Decimal::TWO).round_dp_with_strategy(inv.currency.exponent(), RoundingStrategy::ToZero)
        }
        Amount::MinorUnit => unit,
        Amount::Over => outstanding.checked_add(unit).unwrap_or(Decimal::MAX),
        Amount::TooPrecise => Decimal::new(1, inv.currency.exponent() + 1),
        Amount::Zero => Decimal::ZERO,
    }
}

fn results_for(book: &Book, batch: BatchId, reports: &[Report], stray: bool) -> Vec<(InvoiceId, Outcome)> {
    let mut out = Vec::new();
    if let Ok(b) = book.export_batch(batch) {
        let open = b.invoices.iter().filter(|i| b.results.get(i).is_some_and(ExportResult::is_open));
        for (k, id) in open.enumerate() {
            let outcome = match reports.get(k % reports.len().max(1)).copied().unwrap_or(Report::Exported) {
                Report::Exported => Outcome::Exported,
                Report::Skipped => Outcome::Skipped { reason: "handled by hand".into() },
                Report::Failed => Outcome::Failed { message: "customer.email: the target rejects it".into() },
                Report::Omitted => continue,
            };
            out.push((*id, outcome));
        }
        if stray {
            if let Some(other) = book.invoices().iter().find(|i| !b.results.contains_key(&i.id)) {
                out.push((other.id, Outcome::Exported));
            }
        }
    }
    out
}

fn withdrawal(book: &Book, batch: BatchId, sel: &Sel) -> Vec<InvoiceId> {
    let Ok(b) = book.export_batch(batch) else {
        return invoice_ids(book, sel, |_| false);
    };
    let open: Vec<InvoiceId> =
        b.invoices.iter().copied().filter(|i| b.results.get(i).is_some_and(ExportResult::is_open)).collect();
    if sel.eligible && !open.is_empty() {
        let mut out = Vec::new();
        for n in &sel.ns {
            let id = open[n % open.len()];
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    } else {
        invoice_ids(book, sel, |i| b.results.contains_key(&i.id))
    }
}

/// Resolve `op` against `book` into the command it stands for (changing nothing).
pub fn command(book: &Book, op: &Op) -> Command {
    match op {
        Op::Create(invoices) => Command::CreateInvoices { invoices: invoices.clone() },
        Op::Edit { invoice, changes } => Command::Edit {
            invoice: invoice_id(book, *invoice, |i| {
                i.status.document != Document::Void && !i.status.accounting.is_exported()
            }),
            changes: changes.clone(),
        },
        Op::Issue(sel) => Command::Issue { invoices: invoice_ids(book, sel, |i| i.status.document == Document::Draft) },
        Op::Void(ix) => Command::Void {
            invoice: invoice_id(book, *ix, |i| {
                i.status.document != Document::Void
                    && !i.status.accounting.is_exported()
                    && i.batch.is_none()
                    && i.payments.is_empty()
            }),
            reason: "issued by mistake".into(),
        },
        Op::MarkReadyToSend(sel) => Command::MarkReadyToSend {
            invoices: invoice_ids(book, sel, |i| issued(i) && i.status.delivery == Delivery::NotSent),
        },
        Op::MarkSent(sel) => {
            Command::MarkSent { invoices: invoice_ids(book, sel, |i| issued(i) && i.status.delivery != Delivery::Sent) }
        }
        Op::Pay { invoice, amount } => {
            let id = invoice_id(book, *invoice, |i| issued(i) && i.status.payment != Payment::Paid);
            let day = book.journal().len() as i64 % 40;
            Command::RecordPayment {
                invoice: id,
                payment: PaymentRecord {
                    date: PERIOD_END.checked_add_signed(Duration::days(day)).unwrap_or(PERIOD_END),
                    amount: payment_amount(book, id, *amount),
                    reference: Some(format!("BANK-{day}")),
                },
            }
        }
        Op::CreditNote { invoice, first_line_only } => {
            let credits = invoice_id(book, *invoice, issued);
            let lines = match book.invoice(credits) {
                Ok(inv) if *first_line_only => Some(inv.lines.iter().take(1).cloned().collect()),
                _ => None,
            };
            Command::CreateCreditNote { credits, lines }
        }
        Op::Adjustment { invoice, lines } => Command::CreateAdjustment {
            corrects: invoice_id(book, *invoice, |i| issued(i) && i.status.accounting.is_exported()),
            lines: lines.clone(),
        },
        Op::Batch { invoices, target: t, force } => Command::CreateExportBatch {
            invoices: invoice_ids(book, invoices, |i| issued(i) && i.batch.is_none()),
            target: target(*t),
            force: match force {
                Force::No => None,
                Force::Reason => Some("corrected after import".into()),
                Force::Blank => Some("  ".into()),
            },
        },
        Op::Post(ix) => Command::Post { batch: batch_id(book, *ix, export_in(BatchState::Open)) },
        Op::Unpost(ix) => Command::Unpost {
            batch: batch_id(
                book,
                *ix,
                |b| matches!(b, Batch::Export(e) if e.state == BatchState::Posted && !e.export_started()),
            ),
        },
        Op::Discard(ix) => Command::DiscardBatch { batch: batch_id(book, *ix, export_in(BatchState::Open)) },
        Op::RecordResults { batch, reports, stray } => {
            let batch = batch_id(book, *batch, export_in(BatchState::Posted));
            Command::RecordExportResults { batch, results: results_for(book, batch, reports, *stray) }
        }
        Op::MarkExported(ix) => Command::MarkExported { batch: batch_id(book, *ix, export_in(BatchState::Posted)) },
        Op::Withdraw { batch, invoices } => {
            let batch = batch_id(book, *batch, |b| matches!(b, Batch::Export(e) if e.state != BatchState::Closed));
            Command::Withdraw { batch, invoices: withdrawal(book, batch, invoices) }
        }
        Op::Process { invoices, wrong_count } => {
            let invoices = invoice_ids(book, invoices, |i| issued(i) && i.status.accounting == Accounting::Exported);
            let expected = invoices.len() + usize::from(*wrong_count);
            Command::Process { invoices, expected }
        }
        Op::UndoLast => Command::UndoProcess {
            batch: match book.last_process_batch() {
                Some(p) => p.id,
                None => BatchId(book.batches().len() as u64 + 1),
            },
        },
        Op::Undo(ix) => Command::UndoProcess { batch: batch_id(book, *ix, |b| matches!(b, Batch::Process(_))) },
        Op::Unprocess(ix) => {
            Command::Unprocess { invoice: invoice_id(book, *ix, |i| i.status.accounting == Accounting::Processed) }
        }
        Op::RecordReference { invoice, reference } => {
            Command::RecordReference { invoice: invoice_id(book, *invoice, issued), reference: reference.clone() }
        }
    }
}

/// Resolve `step` against `book` (see [`command`]) and apply it as its actor. Returns the
/// journal entries the command added, or the book's error (then nothing changed).
pub fn run_op(book: &mut Book, actors: &Actors, step: &Step) -> Result<Vec<Envelope>> {
    let command = command(book, &step.op);
    book.apply(actors.get(step.who), command).map(<[Envelope]>::to_vec)
}

/// The open export batches (open or posted) of `book`.
pub fn open_export_batches(book: &Book) -> impl Iterator<Item = &ExportBatch> {
    book.batches().iter().filter_map(|b| match b {
        Batch::Export(e) if matches!(e.state, BatchState::Open | BatchState::Posted) => Some(e),
        _ => None,
    })
}
