//! What describes the files: a TableSchema per dataset (frictionless / schema.data.gouv.fr,
//! `schema-<dataset>.json`) and a DCAT catalogue in JSON-LD (`catalogue.jsonld`) that
//! data.gouv.fr and other portals harvest. Both are built from `fields`, byte-stable.

use boucle::domain::Period;
use serde_json::{Value, json};
use url::Url;

use super::encode::Written;
use super::fields::{self, Dataset};

/// The licence of every dataset: Etalab's Licence Ouverte 2.0, the French public sector's.
pub const LICENCE: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

/// The columns that identify a row of each dataset.
fn primary_key(stem: &str) -> Vec<&'static str> {
    match stem {
        "resultats" => vec![
            "code_structure",
            "perimetre",
            "public",
            "code_indicateur",
            "periode",
        ],
        "experiences" => vec!["identifiant"],
        _ => vec!["code_structure"],
    }
}

/// The TableSchema of `dataset`, as shipped beside its files.
pub fn table_schema(dataset: &Dataset) -> Vec<u8> {
    let fields: Vec<Value> = dataset
        .fields
        .iter()
        .map(|f| {
            let mut field = json!({
                "name": f.name,
                "title": f.title,
                "description": f.description,
                "type": f.kind.table_schema(),
            });
            let mut constraints = serde_json::Map::new();
            if f.required {
                constraints.insert("required".into(), true.into());
            }
            if !f.values.is_empty() {
                constraints.insert("enum".into(), json!(f.values));
            }
            if let Some(p) = f.pattern {
                constraints.insert("pattern".into(), p.into());
            }
            if !constraints.is_empty() {
                field["constraints"] = Value::Object(constraints);
            }
            field
        })
        .collect();
    let schema = json!({
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": dataset.stem,
        "title": dataset.title,
        "description": dataset.description,
        "version": "1.0.0",
        "licenses": [{"title": "Licence Ouverte / Open Licence version 2.0", "path": LICENCE}],
        "missingValues": [""],
        "primaryKey": primary_key(dataset.stem),
        "fields": fields,
    });
    pretty(&schema)
}

/// The same schema for the `.excel.csv` encoding, whose decimals are written with a comma.
pub fn excel_table_schema(dataset: &Dataset) -> Vec<u8> {
    let mut schema: Value = serde_json::from_slice(&table_schema(dataset)).unwrap_or(Value::Null);
    if let Some(fields) = schema["fields"].as_array_mut() {
        for f in fields {
            if f["type"] == "number" {
                f["decimalChar"] = ",".into();
            }
        }
    }
    pretty(&schema)
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn media_type(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "application/json"
    } else {
        "text/csv"
    }
}

/// The address the open-data folder is served from (`--open-data-base-url`): an absolute
/// `http(s)` URL without query or fragment, read as a folder (a missing final `/` is added),
/// so that a harvester such as data.gouv.fr can fetch every file the catalogue names.
pub fn base_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{text:?}: an http:// or https:// address is needed"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: a folder's address has no query or fragment"
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Where the catalogue says `name` is: under `base` when the folder's address is known,
/// else relative to the catalogue itself (which then must be fetched from the same folder).
fn address(base: Option<&Url>, name: &str) -> String {
    base.and_then(|b| b.join(name).ok())
        .map_or_else(|| name.to_owned(), String::from)
}

/// The DCAT catalogue of the datasets written for `period`: each dataset with its
/// distributions (cumulated and monthly, in each encoding), their sizes, SHA-256 and
/// schema, at the addresses [`address`] gives.
pub fn dcat(period: Period, suffix: &str, files: &[Written], base: Option<&Url>) -> Vec<u8> {
    let catalogue = address(base, &format!("catalogue{suffix}.jsonld"));
    let issued = period.next().first_day().format("%Y-%m-%d").to_string();
    let datasets: Vec<Value> = fields::all()
        .iter()
        .map(|d| {
            let cumulated = format!("{}{suffix}.", d.stem);
            let monthly = format!("{}-", d.stem);
            let distributions: Vec<Value> = files
                .iter()
                .filter_map(|w| {
                    let name = w.path.file_name()?.to_str()?;
                    // `<stem>.<ext>` cumulated, `<stem>-YYYY-MM.<ext>` for a month.
                    let (month, rest) = if let Some(rest) = name.strip_prefix(&cumulated) {
                        (None, rest)
                    } else {
                        let after = name.strip_prefix(&monthly)?;
                        let month: Period = after.get(..7)?.parse().ok()?;
                        let rest = after.get(7..)?.strip_prefix(suffix)?.strip_prefix('.')?;
                        (Some(month), rest)
                    };
                    let encoding = match rest {
                        "csv" => "CSV (RFC 4180, UTF-8, virgule)",
                        "excel.csv" => "CSV pour tableur (point-virgule, UTF-8 avec BOM, virgule décimale)",
                        _ => "JSON",
                    };
                    let title = match month {
                        Some(m) => format!("{} — {m} — {encoding}", d.title),
                        None => format!("{} — toutes périodes — {encoding}", d.title),
                    };
                    Some(json!({
                        "@type": "dcat:Distribution",
                        "dct:title": title,
                        "dcat:downloadURL": {"@id": address(base, name)},
                        "dcat:accessURL": {"@id": address(base, name)},
                        "dcat:mediaType": media_type(name),
                        "dcat:byteSize": {"@value": w.size.to_string(), "@type": "xsd:nonNegativeInteger"},
                        "spdx:checksum": {
                            "@type": "spdx:Checksum",
                            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                            "spdx:checksumValue": w.sha256,
                        },
                        "dct:conformsTo": {"@id": address(base, &format!("schema-{}.json", d.stem))},
                        "dct:license": {"@id": LICENCE},
                    }))
                })
                .collect();
            json!({
                "@id": format!("{catalogue}#{}", d.stem),
                "@type": "dcat:Dataset",
                "dct:title": d.title,
                "dct:description": d.description,
                "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
                "dct:license": {"@id": LICENCE},
                "dct:modified": {"@value": issued, "@type": "xsd:date"},
                "dct:accrualPeriodicity": {"@id": "http://purl.org/cld/freq/monthly"},
                "dcat:keyword": ["services publics", "expérience usager", "satisfaction", "Services Publics +"],
                "dcat:distribution": distributions,
            })
        })
        .collect();
    pretty(&json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "spdx": "http://spdx.org/rdf/terms#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": catalogue,
        "@type": "dcat:Catalog",
        "dct:title": "Résultats des services publics — boucle",
        "dct:description": "Résultats, expériences publiées et registre des structures, publiés chaque mois.",
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        "dct:modified": {"@value": issued, "@type": "xsd:date"},
        "dcat:dataset": datasets,
    }))
}
