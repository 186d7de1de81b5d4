//! The CSV-like targets: generic CSV, IIF, QuickBooks Online CSV, Sage 50 US and UK, Sage 300, Xero.
//!
//! Each lives in its own module ([`crate::csv_generic`], [`crate::iif`], [`crate::qbo_csv`],
//! [`crate::sage50`], [`crate::sage300`], [`crate::xero`]) whose documentation gives the
//! columns, signs, dates, encoding and pre-flight checks; [`crate::csvutil`] has what they
//! share (text cells, formula neutralisation, line taxes, the basic summary).

use crate::{csv_generic, iif, qbo_csv, sage300, sage50, xero, Format};

/// The CSV-like formats of this module.
pub(crate) fn formats() -> Vec<&'static dyn Format> {
    vec![
        &csv_generic::GenericCsv,
        &iif::Iif,
        &qbo_csv::QboCsv,
        &sage50::Sage50Us,
        &sage50::Sage50Uk,
        &sage300::Sage300,
        &xero::Xero,
    ]
}
