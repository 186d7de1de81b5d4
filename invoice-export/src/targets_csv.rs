//! The CSV-like targets: generic CSV, IIF, QuickBooks Online CSV, Sage 50 US and UK, Sage 300, Xero.

use crate::Format;

/// The CSV-like formats of this module.
pub(crate) fn formats() -> Vec<&'static dyn Format> {
    Vec::new()
}
