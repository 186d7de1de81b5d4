//! What an export needs to know about the target's company file: mappings with fallbacks,
//! accounts, class and location, date format, summary level, the zero-value policy, and the
//! seller and buyer identities that e-invoices need.

use std::collections::BTreeMap;

use invoice_core::{Line, LineKind};
use serde::{Deserialize, Serialize};

/// The item that deferred-revenue (down-payment) lines use when no mapping names one.
pub const DOWN_PAYMENT_ITEM: &str = "Down Payment";

/// A mapping from the engine's codes to the target's names, with a fallback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Engine code -> target name.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Used when the code is not in `map` (none: the code is used as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl Mapping {
    /// The target's name for `code`: the mapped name, else the fallback, else `code` itself.
    pub fn resolve<'a>(&'a self, code: &'a str) -> &'a str {
        self.map.get(code).map(String::as_str).or(self.fallback.as_deref()).unwrap_or(code)
    }

    /// True when `code` is mapped explicitly or a fallback exists.
    pub fn covers(&self, code: &str) -> bool {
        // with a fallback every code is covered: no lookup
        self.fallback.is_some() || self.map.contains_key(code)
    }
}

/// Detailed (one line per invoice line) or basic (one line per GL account and tax rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Summary {
    /// One exported line per invoice line.
    #[default]
    Detailed,
    /// One exported line per (GL account, tax category, tax rate) of the invoice.
    Basic,
}

/// What happens to invoices whose lines total zero (invoices without lines are always skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroTotal {
    /// Export them like any other (the default).
    #[default]
    Export,
    /// Skip them with the reason "Invoice total is zero - not sent".
    Skip,
}

/// Date layout for targets that let the user choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// The target's own default (see each format's documentation).
    #[default]
    TargetDefault,
    /// 2026-11-30
    Iso,
    /// 11/30/2026
    Us,
    /// 30/11/2026
    Uk,
}

/// A postal address in parts, as e-invoices need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    #[serde(default)]
    pub street: String,
    /// Second address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional: Option<String>,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code (e.g. `DE`).
    #[serde(default)]
    pub country_code: String,
}

/// Who issues the invoices (e-invoices and PDFs need it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    /// Legal name.
    pub name: String,
    /// VAT id with its ISO country prefix (e.g. `DE123456789`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    /// Company registration id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Address,
    /// Electronic address (Peppol endpoint id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// Its scheme (Peppol EAS code, e.g. `0088` GLN, `9930` DE VAT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_scheme: Option<String>,
    /// IBAN payments go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    /// BIC of the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    /// Contact e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// What e-invoices need about a customer beyond the invoice's customer block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// Postal address in parts.
    #[serde(default)]
    pub address: Address,
    /// VAT id with ISO prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    /// Electronic address (Peppol endpoint id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// Its scheme (Peppol EAS code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_scheme: Option<String>,
    /// Buyer reference (Peppol requires a buyer reference or an order reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Everything an export needs besides the invoices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Customer id -> the customer's name (or id) in the target.
    #[serde(default)]
    pub customers: Mapping,
    /// Item code -> the target's item. Deferred-revenue lines without a mapping use
    /// [`DOWN_PAYMENT_ITEM`].
    #[serde(default)]
    pub items: Mapping,
    /// GL account -> the target's income account.
    #[serde(default)]
    pub accounts: Mapping,
    /// Tax key (`"<category code>:<rate>"`, e.g. `"S:0.19"`, `"Z:0"`) -> the target's tax code.
    #[serde(default)]
    pub tax_codes: Mapping,
    /// The accounts-receivable account.
    #[serde(default)]
    pub ar_account: String,
    /// The tax (sales tax / VAT payable) account, where the target needs one.
    #[serde(default)]
    pub tax_account: String,
    /// The sales-tax agency (a vendor) that tax lines name, where the target needs one
    /// (IIF sales-tax lines, Sage 50 US `Sales Tax Agency ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_agency: Option<String>,
    /// Class (QuickBooks) for every exported line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Location/department; when absent the invoice's own location is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Date layout, where the target lets the user choose.
    #[serde(default)]
    pub date_format: DateFormat,
    /// Detailed or basic lines.
    #[serde(default)]
    pub summary: Summary,
    /// Zero-total invoices: export or skip.
    #[serde(default)]
    pub zero_total: ZeroTotal,
    /// Who issues the invoices.
    #[serde(default)]
    pub seller: Seller,
    /// Customer id -> e-invoice data of the customer.
    #[serde(default)]
    pub buyers: BTreeMap<String, Buyer>,
    /// The seller's contact person (e-invoices; Peppol requires it when seller and buyer are
    /// both in Germany).
    #[serde(default, skip_serializing_if = "Contact::is_empty")]
    pub seller_contact: Contact,
}

/// A contact person (EN 16931 BG-6: contact point and telephone; the e-mail address is
/// [`Seller::email`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name of the person or department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
}

impl Contact {
    /// True when neither name nor telephone is set.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.telephone.is_none()
    }
}

impl Config {
    /// The target item of a line: mapped, else (deferred revenue) "Down Payment", else the
    /// fallback, else the line's own item; `None` when the line has none and nothing applies.
    pub fn item_for<'a>(&'a self, line: &'a Line) -> Option<&'a str> {
        if let Some(item) = line.item.as_deref() {
            if let Some(mapped) = self.items.map.get(item) {
                return Some(mapped);
            }
        }
        if line.kind == LineKind::DeferredRevenue {
            return Some(DOWN_PAYMENT_ITEM);
        }
        self.items.fallback.as_deref().or(line.item.as_deref())
    }

    /// The tax key of a line: `"<category code>:<normalised rate>"`.
    pub fn tax_key(line: &Line) -> String {
        format!("{}:{}", line.effective_tax_category().code(), line.tax_rate.normalize())
    }
}
