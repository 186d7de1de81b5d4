//! The `--config FILE` format: export mappings and seller identity, plus PDF branding.
//! `examples/month_end/config.example.json` is a documented example.

use std::path::Path;

use invoice_engine::export::Config as ExportConfig;
use invoice_engine::pdf::{Branding, PageSize, RenderOptions};
use serde::Deserialize;

use crate::RunError;

/// Branding printed on the PDFs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingConfig {
    /// Seller name (default: the export seller's name).
    #[serde(default)]
    pub name: Option<String>,
    /// Address lines.
    #[serde(default)]
    pub address_lines: Vec<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Web address.
    #[serde(default)]
    pub web: Option<String>,
    /// Message at the end of every invoice.
    #[serde(default)]
    pub message: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthEndConfig {
    /// Company (file, realm) in the accounting system; part of every export target.
    #[serde(default = "default_company")]
    pub company: String,
    /// Mappings, accounts, summary level, seller and buyers (see invoice-export's `Config`).
    #[serde(default)]
    pub export: ExportConfig,
    /// PDF branding.
    #[serde(default)]
    pub branding: BrandingConfig,
    /// `a4` or `letter`.
    #[serde(default)]
    pub page_size: Option<String>,
    /// Per target name (`iif`, `xero`, ...): fields that replace those of `export` for that
    /// target only (tax codes differ from one accounting product to the next, say).
    #[serde(default)]
    pub targets: std::collections::BTreeMap<String, serde_json::Value>,
}

fn default_company() -> String {
    "Company".into()
}

impl Default for MonthEndConfig {
    fn default() -> Self {
        MonthEndConfig {
            company: default_company(),
            export: ExportConfig::default(),
            branding: BrandingConfig::default(),
            page_size: None,
            targets: Default::default(),
        }
    }
}

impl MonthEndConfig {
    /// Read a config file; errors name the file.
    pub fn load(path: &Path) -> Result<MonthEndConfig, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::Input(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| RunError::Input(format!("{}: {e}", path.display())))
    }

    /// Parse the JSON text of a config, checking every target override.
    pub fn parse(text: &str) -> Result<MonthEndConfig, String> {
        let config: MonthEndConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for name in config.targets.keys() {
            invoice_engine::export::format(name).map_err(|e| format!("targets: {e}"))?;
            config.for_target(name).map_err(|e| format!("targets.{name}: {e}"))?;
        }
        Ok(config)
    }

    /// The export configuration of one target: `export` with that target's fields replaced.
    pub fn for_target(&self, name: &str) -> Result<ExportConfig, String> {
        let Some(patch) = self.targets.get(name) else { return Ok(self.export.clone()) };
        let mut base = serde_json::to_value(&self.export).map_err(|e| e.to_string())?;
        match (&mut base, patch) {
            (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
                for (k, v) in p {
                    b.insert(k.clone(), v.clone());
                }
            }
            _ => return Err("must be an object of export fields".into()),
        }
        serde_json::from_value(base).map_err(|e| e.to_string())
    }

    /// The renderer's options.
    pub fn render_options(&self) -> Result<RenderOptions, RunError> {
        let b = &self.branding;
        let page_size = match self.page_size.as_deref() {
            None | Some("a4") | Some("A4") => PageSize::A4,
            Some("letter") | Some("Letter") => PageSize::Letter,
            Some(other) => return Err(RunError::Input(format!("page_size must be a4 or letter, not '{other}'"))),
        };
        let mut address = b.address_lines.clone();
        if address.is_empty() {
            let a = &self.export.seller.address;
            address =
                [a.street.clone(), format!("{} {}", a.postal_code, a.city).trim().to_string(), a.country_code.clone()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
        }
        Ok(RenderOptions {
            page_size,
            branding: Branding {
                name: b.name.clone().unwrap_or_else(|| self.export.seller.name.clone()),
                logo: None,
                address_lines: address,
                phone: b.phone.clone(),
                email: b.email.clone().or_else(|| self.export.seller.email.clone()),
                web: b.web.clone(),
                tax_id: self.export.seller.vat_id.clone(),
                message: b.message.clone(),
            },
            ..RenderOptions::default()
        })
    }
}
