//! Errors and violations. Every error and every violation has a stable snake_case code
//! ([`Error::code`], [`ViolationCode::as_str`]) that bindings and callers match on; messages are
//! for people and may change.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::invoice::BatchId;
use crate::money::Currency;
use crate::policy::{Action, Role};
use crate::status::Axis;

/// The result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the book refused to undo a process batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UndoRefusal {
    /// Only the most recent process batch that is still in effect can be undone.
    NotLastBatch {
        /// The batch that would have to be undone first.
        last: BatchId,
    },
    /// An invoice of the batch changed after it was processed.
    InvoiceChanged {
        /// The invoice that changed.
        invoice: String,
    },
    /// The batch was undone already.
    AlreadyUndone,
    /// The batch is an export batch, not a process batch.
    NotAProcessBatch,
}

impl fmt::Display for UndoRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndoRefusal::NotLastBatch { last } => {
                write!(f, "it is not the last process batch ({last} is)")
            }
            UndoRefusal::InvoiceChanged { invoice } => {
                write!(f, "invoice {invoice} changed since it was processed (un-process it on its own)")
            }
            UndoRefusal::AlreadyUndone => f.write_str("it was undone already"),
            UndoRefusal::NotAProcessBatch => f.write_str("it is not a process batch"),
        }
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The actor's role may not perform the action.
    #[error("{actor} (role {role}) may not {action}")]
    Forbidden {
        /// Actor id.
        actor: String,
        /// The actor's role.
        role: Role,
        /// What was attempted.
        action: Action,
    },
    /// A move on a status axis that the axis does not allow.
    #[error("invoice {invoice}: {axis} status cannot go from {from} to {to}")]
    InvalidTransition {
        /// The invoice's number (or draft label).
        invoice: String,
        /// The axis.
        axis: Axis,
        /// Current state.
        from: &'static str,
        /// Requested state.
        to: &'static str,
    },
    /// The invoice fails its checks; every violation is listed.
    #[error("invoice {invoice} is not valid: {}", violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The invoice's number (or draft label).
        invoice: String,
        /// Every violation found.
        violations: Vec<Violation>,
    },
    /// A field cannot change in the invoice's accounting state.
    #[error("invoice {invoice}: {field} cannot be edited while the invoice is {state}")]
    EditNotAllowed {
        /// The invoice.
        invoice: String,
        /// The field.
        field: &'static str,
        /// Its accounting state (or `void`).
        state: &'static str,
    },
    /// The action needs something the invoice is not.
    #[error("invoice {invoice}: cannot {action}: {reason}")]
    NotAllowed {
        /// The invoice.
        invoice: String,
        /// What was attempted.
        action: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// No invoice with this id.
    #[error("no invoice {id}")]
    UnknownInvoice {
        /// The id asked for.
        id: String,
    },
    /// No batch with this id.
    #[error("no batch {id}")]
    UnknownBatch {
        /// The id asked for.
        id: BatchId,
    },
    /// No numbering series with this name.
    #[error("no numbering series '{series}'")]
    UnknownSeries {
        /// The name asked for.
        series: String,
    },
    /// A selection must name at least one invoice.
    #[error("the selection is empty: select at least one invoice")]
    EmptySelection,
    /// An invoice appears twice in a selection.
    #[error("invoice {invoice} appears twice in the selection")]
    DuplicateInSelection {
        /// The invoice.
        invoice: String,
    },
    /// The selection's size differs from the count the user confirmed.
    #[error("expected {expected} invoices but the selection has {actual}; nothing was processed")]
    CountMismatch {
        /// What the user said.
        expected: usize,
        /// What the selection holds.
        actual: usize,
    },
    /// The batch is not in a state that allows the action.
    #[error("batch {batch} is {state}: cannot {action}")]
    BatchState {
        /// The batch.
        batch: BatchId,
        /// Its state.
        state: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The invoice is already in an open export batch.
    #[error("invoice {invoice} is already in open batch {batch}")]
    AlreadyInBatch {
        /// The invoice.
        invoice: String,
        /// The batch holding it.
        batch: BatchId,
    },
    /// The invoice is not part of the batch.
    #[error("invoice {invoice} is not in batch {batch}")]
    NotInBatch {
        /// The invoice.
        invoice: String,
        /// The batch.
        batch: BatchId,
    },
    /// The invoice went to this target before; re-exporting needs force and a reason.
    #[error(
        "invoice {invoice} was already exported to {target} in batch {batch}; force it with a reason to export again"
    )]
    AlreadyExported {
        /// The invoice.
        invoice: String,
        /// The target.
        target: String,
        /// The batch that exported it.
        batch: BatchId,
    },
    /// A forced re-export needs a reason.
    #[error("a forced export needs a reason")]
    MissingReason,
    /// Undo of a process batch refused.
    #[error("cannot undo batch {batch}: {reason}")]
    UndoRefused {
        /// The batch.
        batch: BatchId,
        /// Why.
        reason: UndoRefusal,
    },
    /// The invoice number is taken (numbers are never reused).
    #[error("invoice number {number} is already used")]
    DuplicateNumber {
        /// The number.
        number: String,
    },
    /// A payment larger than what is still owed.
    #[error("invoice {invoice}: payment of {amount} is more than the {outstanding} outstanding")]
    Overpayment {
        /// The invoice.
        invoice: String,
        /// What is still owed.
        outstanding: String,
        /// The payment.
        amount: String,
    },
    /// Arithmetic across two currencies.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// One currency.
        left: Currency,
        /// The other.
        right: Currency,
    },
    /// A sum or product does not fit a decimal.
    #[error("arithmetic overflow in {context}")]
    Overflow {
        /// What was being computed.
        context: &'static str,
    },
    /// An amount with more decimals than its currency's minor unit.
    #[error("{value} has more decimals than {currency} allows ({exponent})")]
    TooManyDecimals {
        /// The value.
        value: String,
        /// The currency.
        currency: Currency,
        /// Its exponent.
        exponent: u32,
    },
    /// A decimal string that cannot be read exactly.
    #[error("'{input}' is not a decimal number: {reason}")]
    InvalidDecimal {
        /// The text.
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A currency code the engine does not know.
    #[error("unknown currency code '{code}' (ISO 4217 codes are three upper-case letters, e.g. EUR)")]
    UnknownCurrency {
        /// The code.
        code: String,
    },
    /// A state name that is not a state of the axis.
    #[error("'{value}' is not a {axis} state")]
    UnknownState {
        /// The axis.
        axis: Axis,
        /// The text.
        value: String,
    },
    /// No project with this id.
    #[error("no project '{id}'")]
    UnknownProject {
        /// The id.
        id: String,
    },
    /// No person with this id.
    #[error("no person '{id}'")]
    UnknownPerson {
        /// The id.
        id: String,
    },
    /// No time entry, expense, milestone or deferred item with this id.
    #[error("no {what} {id}")]
    UnknownEntry {
        /// `time entry`, `expense`, `milestone` or `deferred item`.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The period is not one of the project's schedule.
    #[error("project {project}: {period} is not one of its billing periods")]
    NotAPeriod {
        /// The project.
        project: String,
        /// The period asked for.
        period: String,
    },
    /// A schedule that cannot work.
    #[error("project {project}: invalid schedule: {reason}")]
    InvalidSchedule {
        /// The project.
        project: String,
        /// Why.
        reason: String,
    },
    /// Time, expenses or milestones that are locked, approved or billed cannot change.
    #[error("{what} cannot change: {reason}")]
    Locked {
        /// What was to change (e.g. `time entry 17`).
        what: String,
        /// Why not.
        reason: String,
    },
    /// A journal event that cannot be applied to the book being rebuilt.
    #[error("journal event {seq} cannot be replayed: {reason}")]
    Replay {
        /// Sequence number of the event.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A journal or snapshot line that is not valid JSON for it.
    #[error("journal line {line}: {source}")]
    Json {
        /// 1-based line number (0 for a snapshot).
        line: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing a journal or snapshot failed.
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A stable snake_case code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Forbidden { .. } => "forbidden",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::Invalid { .. } => "invalid_invoice",
            Error::EditNotAllowed { .. } => "edit_not_allowed",
            Error::NotAllowed { .. } => "not_allowed",
            Error::UnknownInvoice { .. } => "unknown_invoice",
            Error::UnknownBatch { .. } => "unknown_batch",
            Error::UnknownSeries { .. } => "unknown_series",
            Error::EmptySelection => "empty_selection",
            Error::DuplicateInSelection { .. } => "duplicate_in_selection",
            Error::CountMismatch { .. } => "count_mismatch",
            Error::BatchState { .. } => "batch_state",
            Error::AlreadyInBatch { .. } => "already_in_batch",
            Error::NotInBatch { .. } => "not_in_batch",
            Error::AlreadyExported { .. } => "already_exported",
            Error::MissingReason => "missing_reason",
            Error::UndoRefused { .. } => "undo_refused",
            Error::DuplicateNumber { .. } => "duplicate_number",
            Error::Overpayment { .. } => "overpayment",
            Error::CurrencyMismatch { .. } => "currency_mismatch",
            Error::Overflow { .. } => "overflow",
            Error::TooManyDecimals { .. } => "too_many_decimals",
            Error::InvalidDecimal { .. } => "invalid_decimal",
            Error::UnknownCurrency { .. } => "unknown_currency",
            Error::UnknownState { .. } => "unknown_state",
            Error::UnknownProject { .. } => "unknown_project",
            Error::UnknownPerson { .. } => "unknown_person",
            Error::UnknownEntry { .. } => "unknown_entry",
            Error::NotAPeriod { .. } => "not_a_period",
            Error::InvalidSchedule { .. } => "invalid_schedule",
            Error::Locked { .. } => "locked",
            Error::Replay { .. } => "replay",
            Error::Json { .. } => "json",
            Error::Io(_) => "io",
        }
    }

    /// The violations of an [`Error::Invalid`]; empty for every other error.
    pub fn violations(&self) -> &[Violation] {
        match self {
            Error::Invalid { violations, .. } => violations,
            _ => &[],
        }
    }
}

macro_rules! violation_codes {
    ($($(#[$doc:meta])* $v:ident = $s:literal),* $(,)?) => {
        /// The stable code of a [`Violation`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ViolationCode {
            $($(#[$doc])* $v),*
        }
        impl ViolationCode {
            /// Every code, for documentation and bindings.
            pub const ALL: &'static [ViolationCode] = &[$(ViolationCode::$v),*];
            /// The snake_case code.
            pub fn as_str(self) -> &'static str {
                match self { $(ViolationCode::$v => $s),* }
            }
        }
    };
}

violation_codes! {
    /// The invoice number is blank.
    EmptyNumber = "empty_number",
    /// The invoice number is longer than the engine allows.
    NumberTooLong = "number_too_long",
    /// A control character (tab, newline ...) where none may be.
    ControlCharacter = "control_character",
    /// The customer has no id.
    MissingCustomerId = "missing_customer_id",
    /// The customer has no name.
    MissingCustomerName = "missing_customer_name",
    /// The customer's e-mail address is malformed.
    InvalidEmail = "invalid_email",
    /// The due date is before the issue date.
    DueBeforeIssue = "due_before_issue",
    /// The billing period ends before it starts.
    PeriodEndsBeforeStart = "period_ends_before_start",
    /// An adjustment does not name the invoice it corrects.
    MissingReference = "missing_reference",
    /// A credit note or adjustment refers to itself.
    SelfReference = "self_reference",
    /// A line has no description.
    EmptyDescription = "empty_description",
    /// A negative quantity on a credit note.
    NegativeQuantity = "negative_quantity",
    /// A negative unit price outside a discount line.
    NegativeUnitPrice = "negative_unit_price",
    /// A discount line that adds to the total.
    PositiveDiscount = "positive_discount",
    /// A tax rate below 0 or from 1 up.
    TaxRateOutOfRange = "tax_rate_out_of_range",
    /// A tax category that does not go with the rate.
    TaxCategoryMismatch = "tax_category_mismatch",
    /// An amount too large to compute.
    AmountOverflow = "amount_overflow",
    /// A service date outside the billing period.
    ServiceDateOutsidePeriod = "service_date_outside_period",
    /// A credit note whose total is negative.
    NegativeCreditNote = "negative_credit_note",
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by a check: a stable code, the path of the field, and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Stable code.
    pub code: ViolationCode,
    /// Path of the field, e.g. `lines[2].quantity`.
    pub path: String,
    /// For people.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.path, self.message, self.code)
    }
}
