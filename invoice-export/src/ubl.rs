//! `ubl`: UBL 2.1 Invoice and CreditNote per Peppol BIS Billing 3.0 (EN 16931), one document
//! per invoice.
//!
//! - Invoices are `Invoice` with type code 380; adjustments name the corrected invoice in a
//!   `BillingReference` and are 384 (corrected invoice) between German parties, 380
//!   elsewhere, as Peppol rule P0112 requires. Credit notes are `CreditNote` with type code 381 and a
//!   `BillingReference` to the credited invoice when it is known. All amounts are positive
//!   on credit notes, as in the engine.
//! - Discount lines become document-level `AllowanceCharge`s (reason code 95) in their own
//!   tax category; the other lines are invoice lines with unit code `C62`.
//! - The payment means are a credit transfer to [`Seller::iban`](crate::Seller::iban) (code 58,
//!   SEPA, for EUR; 30 otherwise), the payment terms say `Net N days`.
//! - See the module documentation of the XML targets for what the configuration must hold.

use std::io;

use invoice_core::{Invoice, TaxCategory};

use crate::config::{Address, Config};
use crate::targets_xml::{check_einvoice, exemption, item_name, push_payment_terms, write_failed, EInvoice};
use crate::xmlutil::{percent, tag, Tag, XmlOut};
use crate::{Format, Layout, Problem};

const CUSTOMIZATION_ID: &str = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
const PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";
const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// The UBL target.
pub(crate) struct Ubl;

impl Format for Ubl {
    fn name(&self) -> &'static str {
        "ubl"
    }

    fn extension(&self) -> &'static str {
        "xml"
    }

    fn layout(&self) -> Layout {
        Layout::OnePerInvoice
    }

    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem> {
        check_einvoice(invoice, config, "UBL (Peppol BIS 3.0)", true)
    }

    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
        let doc = EInvoice::new(invoice, config)?;
        write(&doc, config, out).map_err(|e| write_failed(invoice, e))
    }
}

fn tax_category(
    x: &mut XmlOut<'_>,
    name: Tag,
    category: TaxCategory,
    rate: rust_decimal::Decimal,
    with_reason: bool,
) -> io::Result<()> {
    x.open(name)?;
    x.constant(tag!("cbc:ID"), category.code())?;
    if category != TaxCategory::OutsideScope {
        x.plain(tag!("cbc:Percent"), percent(rate))?;
    }
    if with_reason {
        if let Some((code, text)) = exemption(category) {
            x.opt_text(tag!("cbc:TaxExemptionReasonCode"), code)?;
            x.text(tag!("cbc:TaxExemptionReason"), text)?;
        }
    }
    x.open(tag!("cac:TaxScheme"))?;
    x.constant(tag!("cbc:ID"), "VAT")?;
    x.close(tag!("cac:TaxScheme"))?;
    x.close(name)
}

fn address(x: &mut XmlOut<'_>, name: Tag, a: &Address) -> io::Result<()> {
    x.open(name)?;
    x.opt_text(tag!("cbc:StreetName"), Some(a.street.as_str()))?;
    x.opt_text(tag!("cbc:AdditionalStreetName"), a.additional.as_deref())?;
    x.opt_text(tag!("cbc:CityName"), Some(a.city.as_str()))?;
    x.opt_text(tag!("cbc:PostalZone"), Some(a.postal_code.as_str()))?;
    x.open(tag!("cac:Country"))?;
    x.text(tag!("cbc:IdentificationCode"), &a.country_code)?;
    x.close(tag!("cac:Country"))?;
    x.close(name)
}

fn party_tax_scheme(x: &mut XmlOut<'_>, vat: Option<&str>) -> io::Result<()> {
    if let Some(vat) = vat {
        x.open(tag!("cac:PartyTaxScheme"))?;
        x.text(tag!("cbc:CompanyID"), vat)?;
        x.open(tag!("cac:TaxScheme"))?;
        x.constant(tag!("cbc:ID"), "VAT")?;
        x.close(tag!("cac:TaxScheme"))?;
        x.close(tag!("cac:PartyTaxScheme"))?;
    }
    Ok(())
}

fn endpoint(x: &mut XmlOut<'_>, id: Option<&str>, scheme: Option<&str>) -> io::Result<()> {
    if let Some(id) = id.filter(|s| !s.is_empty()) {
        x.text_with(tag!("cbc:EndpointID"), &[("schemeID", scheme.unwrap_or(""))], id)?;
    }
    Ok(())
}

fn write(d: &EInvoice<'_>, config: &Config, out: &mut Vec<u8>) -> io::Result<()> {
    let inv = d.invoice;
    let credit = inv.kind.is_credit();
    let currency = d.currency();
    let cur: &[(&str, &str)] = &[("currencyID", currency)];
    let dp = d.dp;
    let (root, ns) = if credit { (tag!("CreditNote"), NS_CREDIT_NOTE) } else { (tag!("Invoice"), NS_INVOICE) };
    let mut x = XmlOut::new(out, 0, false);
    x.declaration()?;
    x.open_with(root, &[("xmlns", ns), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)])?;
    x.constant(tag!("cbc:CustomizationID"), CUSTOMIZATION_ID)?;
    x.constant(tag!("cbc:ProfileID"), PROFILE_ID)?;
    x.text(tag!("cbc:ID"), d.number)?;
    x.iso_date(tag!("cbc:IssueDate"), d.issue)?;
    if credit {
        x.constant(tag!("cbc:CreditNoteTypeCode"), d.type_code)?;
    } else {
        if let Some(due) = inv.due_date {
            x.iso_date(tag!("cbc:DueDate"), due)?;
        }
        // Peppol takes 384 (corrected invoice) only between German parties (P0112); elsewhere
        // an adjustment is a commercial invoice that names the corrected one (BG-3).
        let german = config.seller.address.country_code == "DE" && d.buyer.address.country_code == "DE";
        x.constant(tag!("cbc:InvoiceTypeCode"), if d.type_code == "384" && !german { "380" } else { d.type_code })?;
    }
    x.opt_text(tag!("cbc:Note"), Some(inv.memo.as_str()))?;
    x.text(tag!("cbc:DocumentCurrencyCode"), currency)?;
    x.opt_text(tag!("cbc:BuyerReference"), d.buyer.reference.as_deref())?;
    if let Some(p) = inv.billing_period {
        x.open(tag!("cac:InvoicePeriod"))?;
        x.iso_date(tag!("cbc:StartDate"), p.start)?;
        x.iso_date(tag!("cbc:EndDate"), p.end)?;
        x.close(tag!("cac:InvoicePeriod"))?;
    }
    if let Some(preceding) = d.preceding {
        x.open(tag!("cac:BillingReference"))?;
        x.open(tag!("cac:InvoiceDocumentReference"))?;
        x.text(tag!("cbc:ID"), preceding)?;
        x.close(tag!("cac:InvoiceDocumentReference"))?;
        x.close(tag!("cac:BillingReference"))?;
    }

    // Seller.
    let seller = &config.seller;
    x.open(tag!("cac:AccountingSupplierParty"))?;
    x.open(tag!("cac:Party"))?;
    endpoint(&mut x, seller.endpoint_id.as_deref(), seller.endpoint_scheme.as_deref())?;
    address(&mut x, tag!("cac:PostalAddress"), &seller.address)?;
    party_tax_scheme(&mut x, d.seller_vat(config))?;
    x.open(tag!("cac:PartyLegalEntity"))?;
    x.text(tag!("cbc:RegistrationName"), &seller.name)?;
    x.opt_text(tag!("cbc:CompanyID"), seller.registration_id.as_deref())?;
    x.close(tag!("cac:PartyLegalEntity"))?;
    let contact = &config.seller_contact;
    let email = seller.email.as_deref().filter(|s| !s.is_empty());
    if contact.name.is_some() || contact.telephone.is_some() || email.is_some() {
        x.open(tag!("cac:Contact"))?;
        x.opt_text(tag!("cbc:Name"), contact.name.as_deref())?;
        x.opt_text(tag!("cbc:Telephone"), contact.telephone.as_deref())?;
        x.opt_text(tag!("cbc:ElectronicMail"), email)?;
        x.close(tag!("cac:Contact"))?;
    }
    x.close(tag!("cac:Party"))?;
    x.close(tag!("cac:AccountingSupplierParty"))?;

    // Buyer.
    let customer = &inv.customer;
    x.open(tag!("cac:AccountingCustomerParty"))?;
    x.open(tag!("cac:Party"))?;
    endpoint(&mut x, d.buyer.endpoint_id.as_deref(), d.buyer.endpoint_scheme.as_deref())?;
    address(&mut x, tag!("cac:PostalAddress"), &d.buyer.address)?;
    party_tax_scheme(&mut x, d.buyer_vat())?;
    x.open(tag!("cac:PartyLegalEntity"))?;
    x.text(tag!("cbc:RegistrationName"), &customer.name)?;
    x.close(tag!("cac:PartyLegalEntity"))?;
    if let Some(email) = customer.email.as_deref().filter(|s| !s.is_empty()) {
        x.open(tag!("cac:Contact"))?;
        x.text(tag!("cbc:ElectronicMail"), email)?;
        x.close(tag!("cac:Contact"))?;
    }
    x.close(tag!("cac:Party"))?;
    x.close(tag!("cac:AccountingCustomerParty"))?;

    // Deliver-to country of an intra-community supply (BR-IC-12).
    if d.intra_community {
        x.open(tag!("cac:Delivery"))?;
        x.open(tag!("cac:DeliveryLocation"))?;
        x.open(tag!("cac:Address"))?;
        x.open(tag!("cac:Country"))?;
        x.text(tag!("cbc:IdentificationCode"), &d.buyer.address.country_code)?;
        x.close(tag!("cac:Country"))?;
        x.close(tag!("cac:Address"))?;
        x.close(tag!("cac:DeliveryLocation"))?;
        x.close(tag!("cac:Delivery"))?;
    }

    // Payment.
    if let Some(iban) = seller.iban.as_deref().filter(|s| !s.is_empty()) {
        x.open(tag!("cac:PaymentMeans"))?;
        x.constant(tag!("cbc:PaymentMeansCode"), if currency == "EUR" { "58" } else { "30" })?;
        if credit {
            if let Some(due) = inv.due_date {
                x.iso_date(tag!("cbc:PaymentDueDate"), due)?;
            }
        }
        x.text(tag!("cbc:PaymentID"), d.number)?;
        x.open(tag!("cac:PayeeFinancialAccount"))?;
        x.text(tag!("cbc:ID"), iban)?;
        if let Some(bic) = seller.bic.as_deref().filter(|s| !s.is_empty()) {
            x.open(tag!("cac:FinancialInstitutionBranch"))?;
            x.text(tag!("cbc:ID"), bic)?;
            x.close(tag!("cac:FinancialInstitutionBranch"))?;
        }
        x.close(tag!("cac:PayeeFinancialAccount"))?;
        x.close(tag!("cac:PaymentMeans"))?;
    }
    if let Some(due) = inv.due_date {
        x.open(tag!("cac:PaymentTerms"))?;
        x.text_from(tag!("cbc:Note"), |b| push_payment_terms(b, d.issue, due))?;
        x.close(tag!("cac:PaymentTerms"))?;
    }

    // Document-level allowances: the discount lines.
    for &(i, amount) in &d.allowances {
        let line = &inv.lines[i];
        x.open(tag!("cac:AllowanceCharge"))?;
        x.constant(tag!("cbc:ChargeIndicator"), "false")?;
        x.constant(tag!("cbc:AllowanceChargeReasonCode"), "95")?;
        x.text(tag!("cbc:AllowanceChargeReason"), &line.description)?;
        x.amount_with(tag!("cbc:Amount"), cur, amount, dp)?;
        tax_category(&mut x, tag!("cac:TaxCategory"), line.effective_tax_category(), line.tax_rate, false)?;
        x.close(tag!("cac:AllowanceCharge"))?;
    }

    // Tax breakdown.
    x.open(tag!("cac:TaxTotal"))?;
    x.amount_with(tag!("cbc:TaxAmount"), cur, d.totals.tax, dp)?;
    for g in &d.totals.tax_groups {
        x.open(tag!("cac:TaxSubtotal"))?;
        x.amount_with(tag!("cbc:TaxableAmount"), cur, g.taxable, dp)?;
        x.amount_with(tag!("cbc:TaxAmount"), cur, g.tax, dp)?;
        tax_category(&mut x, tag!("cac:TaxCategory"), g.category, g.rate, true)?;
        x.close(tag!("cac:TaxSubtotal"))?;
    }
    x.close(tag!("cac:TaxTotal"))?;

    x.open(tag!("cac:LegalMonetaryTotal"))?;
    x.amount_with(tag!("cbc:LineExtensionAmount"), cur, d.line_total, dp)?;
    x.amount_with(tag!("cbc:TaxExclusiveAmount"), cur, d.totals.net, dp)?;
    x.amount_with(tag!("cbc:TaxInclusiveAmount"), cur, d.totals.gross, dp)?;
    if !d.allowances.is_empty() {
        x.amount_with(tag!("cbc:AllowanceTotalAmount"), cur, d.allowance_total, dp)?;
    }
    x.amount_with(tag!("cbc:PayableAmount"), cur, d.totals.gross, dp)?;
    x.close(tag!("cac:LegalMonetaryTotal"))?;

    // Lines.
    let (line_tag, quantity_tag) = if credit {
        (tag!("cac:CreditNoteLine"), tag!("cbc:CreditedQuantity"))
    } else {
        (tag!("cac:InvoiceLine"), tag!("cbc:InvoicedQuantity"))
    };
    for item in &d.items {
        let (i, net) = (item.index, item.net);
        let line = &inv.lines[i];
        x.open(line_tag)?;
        x.number(tag!("cbc:ID"), i as u64 + 1)?;
        x.plain_with(quantity_tag, &[("unitCode", "C62")], line.quantity)?;
        x.amount_with(tag!("cbc:LineExtensionAmount"), cur, net, dp)?;
        if let Some(day) = line.service_date {
            x.open(tag!("cac:InvoicePeriod"))?;
            x.iso_date(tag!("cbc:StartDate"), day)?;
            x.iso_date(tag!("cbc:EndDate"), day)?;
            x.close(tag!("cac:InvoicePeriod"))?;
        }
        x.open(tag!("cac:Item"))?;
        let (name, description) = item_name(&line.description);
        x.opt_text(tag!("cbc:Description"), description)?;
        x.text(tag!("cbc:Name"), name)?;
        if let Some(item) = line.item.as_deref().filter(|s| !s.is_empty()) {
            x.open(tag!("cac:SellersItemIdentification"))?;
            x.text(tag!("cbc:ID"), item)?;
            x.close(tag!("cac:SellersItemIdentification"))?;
        }
        tax_category(&mut x, tag!("cac:ClassifiedTaxCategory"), line.effective_tax_category(), line.tax_rate, false)?;
        x.close(tag!("cac:Item"))?;
        x.open(tag!("cac:Price"))?;
        x.plain_with(tag!("cbc:PriceAmount"), cur, item.price)?;
        x.close(tag!("cac:Price"))?;
        x.close(line_tag)?;
    }
    x.close(root)?;
    x.finish();
    Ok(())
}
