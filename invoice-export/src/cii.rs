//! `cii`: UN/CEFACT Cross Industry Invoice per EN 16931, in the Factur-X / ZUGFeRD EN16931
//! profile, one document per invoice.
//!
//! - Type code 380 for invoices, 381 for credit notes (positive amounts, with an
//!   `InvoiceReferencedDocument` to the credited invoice when it is known), 384 for
//!   adjustments.
//! - Discount lines become header-level `SpecifiedTradeAllowanceCharge`s (reason code 95);
//!   the billing period is the header `BillingSpecifiedPeriod`, a line's service date its own
//!   period.
//! - See the module documentation of the XML targets for what the configuration must hold.

use std::io;

use invoice_core::{Invoice, TaxCategory};
use rust_decimal::Decimal;

use crate::config::{Address, Config};
use crate::targets_xml::{check_einvoice, exemption, item_name, push_payment_terms, write_failed, EInvoice};
use crate::xmlutil::{percent, tag, Tag, XmlOut};
use crate::{Format, Layout, Problem};

const GUIDELINE: &str = "urn:cen.eu:en16931:2017";
const NS_RSM: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
const NS_RAM: &str = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
const NS_QDT: &str = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";
const NS_UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";

/// The CII target.
pub(crate) struct Cii;

impl Format for Cii {
    fn name(&self) -> &'static str {
        "cii"
    }

    fn extension(&self) -> &'static str {
        "xml"
    }

    fn layout(&self) -> Layout {
        Layout::OnePerInvoice
    }

    fn check(&self, invoice: &Invoice, config: &Config) -> Vec<Problem> {
        check_einvoice(invoice, config, "CII (EN 16931)", false)
    }

    fn write_invoice(&self, invoice: &Invoice, config: &Config, out: &mut Vec<u8>) -> Result<(), Problem> {
        let doc = EInvoice::new(invoice, config)?;
        write(&doc, config, out).map_err(|e| write_failed(invoice, e))
    }
}

/// `ram:ApplicableTradeTax` of a line or `ram:CategoryTradeTax` of an allowance.
fn trade_tax(x: &mut XmlOut<'_>, name: Tag, category: TaxCategory, rate: Decimal) -> io::Result<()> {
    x.open(name)?;
    x.constant(tag!("ram:TypeCode"), "VAT")?;
    x.constant(tag!("ram:CategoryCode"), category.code())?;
    if category != TaxCategory::OutsideScope {
        x.plain(tag!("ram:RateApplicablePercent"), percent(rate))?;
    }
    x.close(name)
}

fn date_time(x: &mut XmlOut<'_>, name: Tag, day: chrono::NaiveDate) -> io::Result<()> {
    x.open(name)?;
    x.date_102(tag!("udt:DateTimeString"), day)?;
    x.close(name)
}

fn period(x: &mut XmlOut<'_>, start: chrono::NaiveDate, end: chrono::NaiveDate) -> io::Result<()> {
    x.open(tag!("ram:BillingSpecifiedPeriod"))?;
    date_time(x, tag!("ram:StartDateTime"), start)?;
    date_time(x, tag!("ram:EndDateTime"), end)?;
    x.close(tag!("ram:BillingSpecifiedPeriod"))
}

fn address(x: &mut XmlOut<'_>, a: &Address) -> io::Result<()> {
    x.open(tag!("ram:PostalTradeAddress"))?;
    x.opt_text(tag!("ram:PostcodeCode"), Some(a.postal_code.as_str()))?;
    x.opt_text(tag!("ram:LineOne"), Some(a.street.as_str()))?;
    x.opt_text(tag!("ram:LineTwo"), a.additional.as_deref())?;
    x.opt_text(tag!("ram:CityName"), Some(a.city.as_str()))?;
    x.text(tag!("ram:CountryID"), &a.country_code)?;
    x.close(tag!("ram:PostalTradeAddress"))
}

fn electronic_address(x: &mut XmlOut<'_>, id: Option<&str>, scheme: Option<&str>) -> io::Result<()> {
    if let Some(id) = id.filter(|s| !s.is_empty()) {
        x.open(tag!("ram:URIUniversalCommunication"))?;
        x.text_with(tag!("ram:URIID"), &[("schemeID", scheme.unwrap_or(""))], id)?;
        x.close(tag!("ram:URIUniversalCommunication"))?;
    }
    Ok(())
}

fn tax_registration(x: &mut XmlOut<'_>, vat: Option<&str>) -> io::Result<()> {
    if let Some(vat) = vat {
        x.open(tag!("ram:SpecifiedTaxRegistration"))?;
        x.text_with(tag!("ram:ID"), &[("schemeID", "VA")], vat)?;
        x.close(tag!("ram:SpecifiedTaxRegistration"))?;
    }
    Ok(())
}

fn write(d: &EInvoice<'_>, config: &Config, out: &mut Vec<u8>) -> io::Result<()> {
    let inv = d.invoice;
    let dp = d.dp;
    let mut x = XmlOut::new(out, 0, false);
    x.declaration()?;
    x.open_with(
        tag!("rsm:CrossIndustryInvoice"),
        &[("xmlns:rsm", NS_RSM), ("xmlns:ram", NS_RAM), ("xmlns:qdt", NS_QDT), ("xmlns:udt", NS_UDT)],
    )?;
    x.open(tag!("rsm:ExchangedDocumentContext"))?;
    x.open(tag!("ram:GuidelineSpecifiedDocumentContextParameter"))?;
    x.constant(tag!("ram:ID"), GUIDELINE)?;
    x.close(tag!("ram:GuidelineSpecifiedDocumentContextParameter"))?;
    x.close(tag!("rsm:ExchangedDocumentContext"))?;

    x.open(tag!("rsm:ExchangedDocument"))?;
    x.text(tag!("ram:ID"), d.number)?;
    x.constant(tag!("ram:TypeCode"), d.type_code)?;
    date_time(&mut x, tag!("ram:IssueDateTime"), d.issue)?;
    if !inv.memo.is_empty() {
        x.open(tag!("ram:IncludedNote"))?;
        x.text(tag!("ram:Content"), &inv.memo)?;
        x.close(tag!("ram:IncludedNote"))?;
    }
    x.close(tag!("rsm:ExchangedDocument"))?;

    x.open(tag!("rsm:SupplyChainTradeTransaction"))?;
    for item in &d.items {
        let (i, net) = (item.index, item.net);
        let line = &inv.lines[i];
        x.open(tag!("ram:IncludedSupplyChainTradeLineItem"))?;
        x.open(tag!("ram:AssociatedDocumentLineDocument"))?;
        x.number(tag!("ram:LineID"), i as u64 + 1)?;
        x.close(tag!("ram:AssociatedDocumentLineDocument"))?;
        x.open(tag!("ram:SpecifiedTradeProduct"))?;
        x.opt_text(tag!("ram:SellerAssignedID"), line.item.as_deref())?;
        let (name, description) = item_name(&line.description);
        x.text(tag!("ram:Name"), name)?;
        x.opt_text(tag!("ram:Description"), description)?;
        x.close(tag!("ram:SpecifiedTradeProduct"))?;
        x.open(tag!("ram:SpecifiedLineTradeAgreement"))?;
        x.open(tag!("ram:NetPriceProductTradePrice"))?;
        x.plain(tag!("ram:ChargeAmount"), item.price)?;
        x.close(tag!("ram:NetPriceProductTradePrice"))?;
        x.close(tag!("ram:SpecifiedLineTradeAgreement"))?;
        x.open(tag!("ram:SpecifiedLineTradeDelivery"))?;
        x.plain_with(tag!("ram:BilledQuantity"), &[("unitCode", "C62")], line.quantity)?;
        x.close(tag!("ram:SpecifiedLineTradeDelivery"))?;
        x.open(tag!("ram:SpecifiedLineTradeSettlement"))?;
        trade_tax(&mut x, tag!("ram:ApplicableTradeTax"), line.effective_tax_category(), line.tax_rate)?;
        if let Some(day) = line.service_date {
            period(&mut x, day, day)?;
        }
        x.open(tag!("ram:SpecifiedTradeSettlementLineMonetarySummation"))?;
        x.amount(tag!("ram:LineTotalAmount"), net, dp)?;
        x.close(tag!("ram:SpecifiedTradeSettlementLineMonetarySummation"))?;
        x.close(tag!("ram:SpecifiedLineTradeSettlement"))?;
        x.close(tag!("ram:IncludedSupplyChainTradeLineItem"))?;
    }

    // Parties.
    let seller = &config.seller;
    x.open(tag!("ram:ApplicableHeaderTradeAgreement"))?;
    x.opt_text(tag!("ram:BuyerReference"), d.buyer.reference.as_deref())?;
    x.open(tag!("ram:SellerTradeParty"))?;
    x.text(tag!("ram:Name"), &seller.name)?;
    if let Some(reg) = seller.registration_id.as_deref().filter(|s| !s.is_empty()) {
        x.open(tag!("ram:SpecifiedLegalOrganization"))?;
        x.text(tag!("ram:ID"), reg)?;
        x.close(tag!("ram:SpecifiedLegalOrganization"))?;
    }
    let contact = &config.seller_contact;
    let email = seller.email.as_deref().filter(|s| !s.is_empty());
    if contact.name.is_some() || contact.telephone.is_some() || email.is_some() {
        x.open(tag!("ram:DefinedTradeContact"))?;
        x.opt_text(tag!("ram:PersonName"), contact.name.as_deref())?;
        if let Some(phone) = contact.telephone.as_deref().filter(|s| !s.is_empty()) {
            x.open(tag!("ram:TelephoneUniversalCommunication"))?;
            x.text(tag!("ram:CompleteNumber"), phone)?;
            x.close(tag!("ram:TelephoneUniversalCommunication"))?;
        }
        if let Some(email) = email {
            x.open(tag!("ram:EmailURIUniversalCommunication"))?;
            x.text(tag!("ram:URIID"), email)?;
            x.close(tag!("ram:EmailURIUniversalCommunication"))?;
        }
        x.close(tag!("ram:DefinedTradeContact"))?;
    }
    address(&mut x, &seller.address)?;
    electronic_address(&mut x, seller.endpoint_id.as_deref(), seller.endpoint_scheme.as_deref())?;
    tax_registration(&mut x, d.seller_vat(config))?;
    x.close(tag!("ram:SellerTradeParty"))?;
    x.open(tag!("ram:BuyerTradeParty"))?;
    x.text(tag!("ram:Name"), &inv.customer.name)?;
    if let Some(email) = inv.customer.email.as_deref().filter(|s| !s.is_empty()) {
        x.open(tag!("ram:DefinedTradeContact"))?;
        x.open(tag!("ram:EmailURIUniversalCommunication"))?;
        x.text(tag!("ram:URIID"), email)?;
        x.close(tag!("ram:EmailURIUniversalCommunication"))?;
        x.close(tag!("ram:DefinedTradeContact"))?;
    }
    address(&mut x, &d.buyer.address)?;
    electronic_address(&mut x, d.buyer.endpoint_id.as_deref(), d.buyer.endpoint_scheme.as_deref())?;
    tax_registration(&mut x, d.buyer_vat())?;
    x.close(tag!("ram:BuyerTradeParty"))?;
    x.close(tag!("ram:ApplicableHeaderTradeAgreement"))?;

    // Delivery: the deliver-to country of an intra-community supply (BR-IC-12).
    if d.intra_community {
        x.open(tag!("ram:ApplicableHeaderTradeDelivery"))?;
        x.open(tag!("ram:ShipToTradeParty"))?;
        x.open(tag!("ram:PostalTradeAddress"))?;
        x.text(tag!("ram:CountryID"), &d.buyer.address.country_code)?;
        x.close(tag!("ram:PostalTradeAddress"))?;
        x.close(tag!("ram:ShipToTradeParty"))?;
        x.close(tag!("ram:ApplicableHeaderTradeDelivery"))?;
    } else {
        x.empty(tag!("ram:ApplicableHeaderTradeDelivery"))?;
    }

    // Settlement.
    x.open(tag!("ram:ApplicableHeaderTradeSettlement"))?;
    x.text(tag!("ram:PaymentReference"), d.number)?;
    x.constant(tag!("ram:InvoiceCurrencyCode"), d.currency())?;
    if let Some(iban) = seller.iban.as_deref().filter(|s| !s.is_empty()) {
        x.open(tag!("ram:SpecifiedTradeSettlementPaymentMeans"))?;
        x.constant(tag!("ram:TypeCode"), if d.currency() == "EUR" { "58" } else { "30" })?;
        x.open(tag!("ram:PayeePartyCreditorFinancialAccount"))?;
        x.text(tag!("ram:IBANID"), iban)?;
        x.close(tag!("ram:PayeePartyCreditorFinancialAccount"))?;
        if let Some(bic) = seller.bic.as_deref().filter(|s| !s.is_empty()) {
            x.open(tag!("ram:PayeeSpecifiedCreditorFinancialInstitution"))?;
            x.text(tag!("ram:BICID"), bic)?;
            x.close(tag!("ram:PayeeSpecifiedCreditorFinancialInstitution"))?;
        }
        x.close(tag!("ram:SpecifiedTradeSettlementPaymentMeans"))?;
    }
    for g in &d.totals.tax_groups {
        x.open(tag!("ram:ApplicableTradeTax"))?;
        x.amount(tag!("ram:CalculatedAmount"), g.tax, dp)?;
        x.constant(tag!("ram:TypeCode"), "VAT")?;
        let reason = exemption(g.category);
        if let Some((_, text)) = reason {
            x.text(tag!("ram:ExemptionReason"), text)?;
        }
        x.amount(tag!("ram:BasisAmount"), g.taxable, dp)?;
        x.constant(tag!("ram:CategoryCode"), g.category.code())?;
        if let Some((code, _)) = reason {
            x.opt_text(tag!("ram:ExemptionReasonCode"), code)?;
        }
        if g.category != TaxCategory::OutsideScope {
            x.plain(tag!("ram:RateApplicablePercent"), percent(g.rate))?;
        }
        x.close(tag!("ram:ApplicableTradeTax"))?;
    }
    if let Some(p) = inv.billing_period {
        period(&mut x, p.start, p.end)?;
    }
    for &(i, amount) in &d.allowances {
        let line = &inv.lines[i];
        x.open(tag!("ram:SpecifiedTradeAllowanceCharge"))?;
        x.open(tag!("ram:ChargeIndicator"))?;
        x.constant(tag!("udt:Indicator"), "false")?;
        x.close(tag!("ram:ChargeIndicator"))?;
        x.amount(tag!("ram:ActualAmount"), amount, dp)?;
        x.constant(tag!("ram:ReasonCode"), "95")?;
        x.text(tag!("ram:Reason"), &line.description)?;
        trade_tax(&mut x, tag!("ram:CategoryTradeTax"), line.effective_tax_category(), line.tax_rate)?;
        x.close(tag!("ram:SpecifiedTradeAllowanceCharge"))?;
    }
    if let Some(due) = inv.due_date {
        x.open(tag!("ram:SpecifiedTradePaymentTerms"))?;
        x.text_from(tag!("ram:Description"), |b| push_payment_terms(b, d.issue, due))?;
        date_time(&mut x, tag!("ram:DueDateDateTime"), due)?;
        x.close(tag!("ram:SpecifiedTradePaymentTerms"))?;
    }
    x.open(tag!("ram:SpecifiedTradeSettlementHeaderMonetarySummation"))?;
    x.amount(tag!("ram:LineTotalAmount"), d.line_total, dp)?;
    if !d.allowances.is_empty() {
        x.amount(tag!("ram:AllowanceTotalAmount"), d.allowance_total, dp)?;
    }
    x.amount(tag!("ram:TaxBasisTotalAmount"), d.totals.net, dp)?;
    x.amount_with(tag!("ram:TaxTotalAmount"), &[("currencyID", d.currency())], d.totals.tax, dp)?;
    x.amount(tag!("ram:GrandTotalAmount"), d.totals.gross, dp)?;
    x.amount(tag!("ram:DuePayableAmount"), d.totals.gross, dp)?;
    x.close(tag!("ram:SpecifiedTradeSettlementHeaderMonetarySummation"))?;
    if let Some(preceding) = d.preceding {
        x.open(tag!("ram:InvoiceReferencedDocument"))?;
        x.text(tag!("ram:IssuerAssignedID"), preceding)?;
        x.close(tag!("ram:InvoiceReferencedDocument"))?;
    }
    x.close(tag!("ram:ApplicableHeaderTradeSettlement"))?;
    x.close(tag!("rsm:SupplyChainTradeTransaction"))?;
    x.close(tag!("rsm:CrossIndustryInvoice"))?;
    x.finish();
    Ok(())
}
