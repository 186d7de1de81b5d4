//! The four independent status axes of an invoice and the transitions each allows.
//!
//! | axis | states |
//! | --- | --- |
//! | document | Draft -> Issued -> Void |
//! | delivery | NotSent -> ReadyToSend -> Sent |
//! | accounting | Pending -> Batched -> Posted -> Exported -> Processed |
//! | payment | Unpaid -> PartiallyPaid -> Paid |
//!
//! Backward moves on the accounting axis exist only for the book's undo paths: Batched ->
//! Pending (batch discarded or invoice withdrawn), Posted -> Batched (unpost), Posted -> Pending
//! (a failed invoice withdrawn from its batch), Processed -> Exported (undo, un-process).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Names one of the four axes (in errors and queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Draft, issued, void.
    Document,
    /// Not sent, ready to send, sent.
    Delivery,
    /// Pending to processed.
    Accounting,
    /// Unpaid to paid.
    Payment,
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Axis::Document => "document",
            Axis::Delivery => "delivery",
            Axis::Accounting => "accounting",
            Axis::Payment => "payment",
        })
    }
}

/// A state on one axis.
pub trait AxisState: Copy + PartialEq + fmt::Debug {
    /// The axis this state belongs to.
    const AXIS: Axis;
    /// Stable snake_case name of the state.
    fn name(self) -> &'static str;
    /// True when the axis may move from `self` to `to`.
    fn allows(self, to: Self) -> bool;
}

/// Check the move `from -> to` for the invoice named `invoice`.
pub fn transition<S: AxisState>(invoice: &str, from: S, to: S) -> Result<S> {
    if from.allows(to) {
        Ok(to)
    } else {
        Err(Error::InvalidTransition { invoice: invoice.to_string(), axis: S::AXIS, from: from.name(), to: to.name() })
    }
}

macro_rules! axis {
    ($(#[$doc:meta])* $name:ident ($axis:ident) { $($(#[$vdoc:meta])* $v:ident = $s:literal),* $(,)? }
     allows: |$from:ident, $to:ident| $allows:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $v),*
        }
        impl $name {
            /// Every state of the axis, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
        }
        impl AxisState for $name {
            const AXIS: Axis = Axis::$axis;
            fn name(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
            fn allows(self, to: Self) -> bool {
                use $name::*;
                let ($from, $to) = (self, to);
                $allows
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok($name::$v),)*
                    _ => Err(Error::UnknownState { axis: Axis::$axis, value: s.to_string() }),
                }
            }
        }
    };
}

axis! {
    /// Document axis.
    Document (Document) {
        /// Being written; no number yet (unless imported with one).
        #[default]
        Draft = "draft",
        /// Final; has its number.
        Issued = "issued",
        /// Cancelled; keeps its number, which is never reused.
        Void = "void",
    }
    allows: |from, to| matches!((from, to), (Draft, Issued) | (Draft, Void) | (Issued, Void))
}

axis! {
    /// Delivery axis (sending happens elsewhere; the book records it).
    Delivery (Delivery) {
        /// Not sent.
        #[default]
        NotSent = "not_sent",
        /// Approved for sending.
        ReadyToSend = "ready_to_send",
        /// Marked sent.
        Sent = "sent",
    }
    allows: |from, to| matches!((from, to), (NotSent, ReadyToSend) | (NotSent, Sent) | (ReadyToSend, Sent))
}

axis! {
    /// Accounting axis.
    Accounting (Accounting) {
        /// Not in any batch yet.
        #[default]
        Pending = "pending",
        /// In an export batch; still editable.
        Batched = "batched",
        /// In a posted batch; locked except for a few fields.
        Posted = "posted",
        /// Sent to the accounting system (or marked done); immutable.
        Exported = "exported",
        /// The accounting system confirmed the import; immutable.
        Processed = "processed",
    }
    allows: |from, to| matches!(
        (from, to),
        (Pending, Batched)
            | (Batched, Pending)
            | (Batched, Posted)
            | (Posted, Batched)
            | (Posted, Pending)
            | (Posted, Exported)
            | (Exported, Processed)
            | (Processed, Exported)
    )
}

axis! {
    /// Payment axis.
    Payment (Payment) {
        /// Nothing received.
        #[default]
        Unpaid = "unpaid",
        /// Part of the total received.
        PartiallyPaid = "partially_paid",
        /// The total received.
        Paid = "paid",
    }
    allows: |from, to| matches!((from, to), (Unpaid, PartiallyPaid) | (Unpaid, Paid) | (PartiallyPaid, PartiallyPaid) | (PartiallyPaid, Paid))
}

/// Where an invoice stands on each axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Status {
    /// Draft, issued, void.
    pub document: Document,
    /// Not sent, ready to send, sent.
    pub delivery: Delivery,
    /// Pending, batched, posted, exported, processed.
    pub accounting: Accounting,
    /// Unpaid, partially paid, paid.
    pub payment: Payment,
}

impl Accounting {
    /// Exported or processed: the accounting system has the invoice, so it is immutable.
    pub fn is_exported(self) -> bool {
        matches!(self, Accounting::Exported | Accounting::Processed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illegal_transition_names_invoice_axis_from_and_to() {
        let err = transition("INV-7", Document::Void, Document::Issued).unwrap_err();
        assert_eq!(err.code(), "invalid_transition");
        assert_eq!(err.to_string(), "invoice INV-7: document status cannot go from void to issued");
        assert!(transition("x", Accounting::Exported, Accounting::Pending).is_err());
        assert!(transition("x", Delivery::Sent, Delivery::NotSent).is_err());
        assert!(transition("x", Payment::Paid, Payment::PartiallyPaid).is_err());
        assert_eq!(transition("x", Accounting::Posted, Accounting::Exported).unwrap(), Accounting::Exported);
    }

    #[test]
    fn states_parse_back_from_their_names() {
        for s in Accounting::ALL {
            assert_eq!(s.name().parse::<Accounting>().unwrap(), *s);
        }
        assert_eq!("nope".parse::<Payment>().unwrap_err().code(), "unknown_state");
    }
}
