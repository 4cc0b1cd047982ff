//! Finding a public location: the folded words that search compares, the département of a
//! postal code, distances, and the bounds of a query.
//!
//! A portal's visitor types « caf lyon », « St-Étienne » or « SAINT ETIENNE » and expects
//! the same places. Names, typologies and cities are compared as *terms*: compatibility
//! decomposition (NFKD), combining marks dropped (so accents and case never matter),
//! ligatures spelled out (œ → oe, æ → ae, ß → ss), every other character that is not a
//! letter or digit a separator (so « Part-Dieu », « d’allocations » and « l'Isle » split),
//! and the usual abbreviations of place names spelled out (« st » → « saint », « ste » →
//! « sainte »…). A location matches when every term of the query begins one of its terms.

use unicode_normalization::UnicodeNormalization;

use super::validation::Violation;
use unicode_normalization::char::is_combining_mark;

/// Longest free text a search takes, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most terms a search compares (each one is a condition on every candidate).
pub const MAX_TERMS: usize = 8;
/// Widest radius around a point, in kilometres, and the radius when none is given.
pub const MAX_RADIUS_KM: f64 = 100.0;
pub const DEFAULT_RADIUS_KM: f64 = 10.0;
/// Most hits a search lists, across its pages: a visitor refines rather than reads further.
pub const MAX_HITS: u64 = 500;

/// Mean Earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Abbreviations of place names and what they stand for.
const ABBREVIATIONS: [(&str, &str); 4] = [
    ("st", "saint"),
    ("ste", "sainte"),
    ("sts", "saints"),
    ("stes", "saintes"),
];

/// The terms of `text`, in order (see the module documentation).
pub fn terms(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'œ' | 'Œ' => folded.push_str("oe"),
            'æ' | 'Æ' => folded.push_str("ae"),
            'ß' => folded.push_str("ss"),
            c if c.is_alphanumeric() => folded.extend(c.to_lowercase()),
            _ => folded.push(' '),
        }
    }
    folded
        .split_whitespace()
        .map(|t| {
            ABBREVIATIONS
                .iter()
                .find(|(short, _)| *short == t)
                .map_or_else(|| t.to_owned(), |(_, long)| (*long).to_owned())
        })
        .collect()
}

/// What a location is found by: the terms of its name, typology, city and code, each
/// preceded and the whole followed by a space, so that « begins a term » is the pattern
/// `% term%` in SQL. Stored beside the location, written with it.
pub fn search_key(name: &str, typology: &str, city: &str, code: &str) -> String {
    let mut key = String::from(" ");
    for part in [name, typology, city, code] {
        for term in terms(part) {
            key.push_str(&term);
            key.push(' ');
        }
    }
    key
}

/// Every distinct term a location is found by (those of its search key), sorted: the rows
/// of the term index the store keeps beside it.
pub fn location_terms(name: &str, typology: &str, city: &str, code: &str) -> Vec<String> {
    let terms: std::collections::BTreeSet<String> = [name, typology, city, code]
        .into_iter()
        .flat_map(terms)
        .collect();
    terms.into_iter().collect()
}

/// The terms a query's `term` begins, as a range of byte-ordered strings: from `term`
/// itself to `term` followed by the highest code point, which no longer term sorts after.
pub fn begins_range(term: &str) -> (String, String) {
    (term.to_owned(), format!("{term}\u{10FFFF}"))
}

/// The terms of a location's name alone, in the same form, to rank hits whose name holds
/// the query's terms before those that hold them in the city or typology only.
pub fn name_key(name: &str) -> String {
    search_key(name, "", "", "")
}

/// The département of a French postal code: its first two digits, three overseas (971–976,
/// 984–988), « 2A » / « 2B » for Corsica (20000–20199 is Corse-du-Sud), « 20 » for no
/// département. `None` for anything that is not five digits.
pub fn departement(postal_code: &str) -> Option<String> {
    let code = postal_code.trim();
    if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let two = &code[..2];
    Some(match two {
        "97" | "98" => code[..3].to_owned(),
        "20" => {
            let n: u32 = code.parse().ok()?;
            if n < 20_200 { "2A" } else { "2B" }.to_owned()
        }
        _ => two.to_owned(),
    })
}

/// Whether `code` is written as a département is (01–95, 2A, 2B, 971–976, 984–988), in any
/// case; answers it as stored (upper case).
pub fn parse_departement(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    let valid = match code.as_str() {
        "2A" | "2B" => true,
        c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()) => {
            matches!(c.parse::<u32>(), Ok(1..=95)) && c != "20"
        }
        c if c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) => {
            matches!(c.parse::<u32>(), Ok(971..=976 | 984..=988))
        }
        _ => false,
    };
    valid.then_some(code)
}

/// A point on Earth, in degrees (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    /// A point from degrees; `None` outside [-90, 90] × [-180, 180] or not finite.
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Self {
                latitude,
                longitude,
            },
        )
    }

    /// The great-circle distance to `other`, in kilometres (haversine).
    pub fn distance_km(self, other: Point) -> f64 {
        let (la1, la2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dla = la2 - la1;
        let dlo = (other.longitude - self.longitude).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }

    /// The smallest latitude/longitude box holding every point within `radius_km`
    /// (`radius_km` ≤ [`MAX_RADIUS_KM`]; near a pole the box spans every longitude).
    pub fn bounding_box(self, radius_km: f64) -> BoundingBox {
        let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let cos = self.latitude.to_radians().cos();
        let dlon = if cos * 180.0 <= dlat {
            180.0
        } else {
            (dlat / cos).min(180.0)
        };
        BoundingBox {
            min_latitude: (self.latitude - dlat).max(-90.0),
            max_latitude: (self.latitude + dlat).min(90.0),
            min_longitude: self.longitude - dlon,
            max_longitude: self.longitude + dlon,
        }
    }

    /// How many longitude degrees weigh one latitude degree here: the scale of the
    /// equirectangular distance that orders candidates in SQL (exact enough within
    /// [`MAX_RADIUS_KM`]; the distance shown is the haversine one).
    pub fn longitude_scale(self) -> f64 {
        self.latitude.to_radians().cos()
    }
}

/// Bounds in degrees; the longitudes may leave [-180, 180] around the antimeridian (a
/// search there also matches nothing on the far side, which no French location is on).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundingBox {
    pub min_latitude: f64,
    pub max_latitude: f64,
    pub min_longitude: f64,
    pub max_longitude: f64,
}

/// Where to look: around a point, within a radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Near {
    pub point: Point,
    pub radius_km: f64,
}

impl Near {
    /// How much wider than the radius candidates are looked for on the local plane
    /// (equirectangular at the point's latitude), which errs by less than that within
    /// [`MAX_RADIUS_KM`] of mainland France; the great-circle distance then decides.
    const PLANE_MARGIN: f64 = 1.02;

    /// The box candidates lie in.
    pub fn candidate_box(self) -> BoundingBox {
        self.point.bounding_box(self.radius_km * Self::PLANE_MARGIN)
    }

    /// The radius of candidates on the local plane, in latitude degrees.
    pub fn candidate_radius_degrees(self) -> f64 {
        (self.radius_km * Self::PLANE_MARGIN / EARTH_RADIUS_KM).to_degrees()
    }

    /// The great-circle distance of `other` when it lies within the radius.
    pub fn distance_within(self, other: Point) -> Option<f64> {
        let d = self.point.distance_km(other);
        (d <= self.radius_km).then_some(d)
    }
}

/// A validated search. At least one criterion is required: an empty search would list the
/// whole register, which the open-data « structures » file already gives.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Search {
    /// Every term must begin a term of the location (see [`terms`]).
    pub terms: Vec<String>,
    pub postal_code: Option<String>,
    pub departement: Option<String>,
    /// The public code of a location whose subtree is searched.
    pub network: Option<String>,
    pub near: Option<Near>,
}

/// What a search was asked, before validation.
#[derive(Clone, Debug, Default)]
pub struct SearchInput<'a> {
    pub query: &'a str,
    pub postal_code: &'a str,
    pub departement: &'a str,
    pub network: &'a str,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_km: Option<f64>,
}

impl Search {
    /// Validates every field; all violations at once.
    pub fn parse(input: &SearchInput<'_>) -> Result<Self, Vec<Violation>> {
        let mut errors = Vec::new();
        let mut search = Search::default();
        if input.query.chars().count() > MAX_QUERY_CHARS {
            errors.push(Violation::new(
                "query",
                format!("is longer than {MAX_QUERY_CHARS} characters"),
            ));
        } else {
            let mut terms = terms(input.query);
            let mut seen = std::collections::HashSet::new();
            terms.retain(|t| seen.insert(t.clone()));
            if terms.len() > MAX_TERMS {
                errors.push(Violation::new(
                    "query",
                    format!("has more than {MAX_TERMS} words"),
                ));
            }
            search.terms = terms;
        }
        let postal = input.postal_code.trim();
        if !postal.is_empty() {
            if departement(postal).is_some() {
                search.postal_code = Some(postal.to_owned());
            } else {
                errors.push(Violation::new(
                    "postal_code",
                    "must be five digits".to_owned(),
                ));
            }
        }
        let dept = input.departement.trim();
        if !dept.is_empty() {
            match parse_departement(dept) {
                Some(d) => search.departement = Some(d),
                None => errors.push(Violation::new(
                    "departement",
                    "must be a département code (01–95, 2A, 2B, 971–976, 984–988)".to_owned(),
                )),
            }
        }
        let network = input.network.trim();
        if !network.is_empty() {
            search.network = Some(network.to_owned());
        }
        match (input.latitude, input.longitude) {
            (Some(lat), Some(lon)) => match Point::new(lat, lon) {
                Some(point) => {
                    let radius = input.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
                    if radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_KM {
                        search.near = Some(Near {
                            point,
                            radius_km: radius,
                        });
                    } else {
                        errors.push(Violation::new(
                            "radius_km",
                            format!("must be above 0 and at most {MAX_RADIUS_KM} km"),
                        ));
                    }
                }
                None => errors.push(Violation::new(
                    "latitude",
                    "latitude must be within [-90, 90] and longitude within [-180, 180]".to_owned(),
                )),
            },
            (None, None) => {
                if input.radius_km.is_some() {
                    errors.push(Violation::new(
                        "radius_km",
                        "needs latitude and longitude".to_owned(),
                    ));
                }
            }
            (Some(_), None) => errors.push(Violation::new(
                "longitude",
                "is required with latitude".to_owned(),
            )),
            (None, Some(_)) => errors.push(Violation::new(
                "latitude",
                "is required with longitude".to_owned(),
            )),
        }
        if errors.is_empty()
            && search.terms.is_empty()
            && search.postal_code.is_none()
            && search.departement.is_none()
            && search.network.is_none()
            && search.near.is_none()
        {
            errors.push(Violation::new(
                "query",
                "give a text, a postal code, a département, a network or a point".to_owned(),
            ));
        }
        if errors.is_empty() {
            Ok(search)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_punctuation_and_saint_fold_alike() {
        for spelling in [
            "Saint-Étienne",
            "ST ETIENNE",
            "st-étienne",
            "saint\u{a0}etienne",
            "Saint-E\u{301}tienne",
            "  sAiNt   ÉTIENNE ",
        ] {
            assert_eq!(terms(spelling), ["saint", "etienne"], "{spelling:?}");
        }
        assert_eq!(terms("Ste-Foy-lès-Lyon"), ["sainte", "foy", "les", "lyon"]);
        assert_eq!(
            terms("Caisse d’allocations familiales"),
            ["caisse", "d", "allocations", "familiales"]
        );
        assert_eq!(terms("Cœur de l'Œuvre"), ["coeur", "de", "l", "oeuvre"]);
        assert_eq!(terms("ＣＡＦ６９"), ["caf69"]);
        // A word that only starts like an abbreviation is left alone.
        assert_eq!(terms("Stade"), ["stade"]);
        assert!(terms(" \u{200b}\t-–’ ").is_empty());
    }

    #[test]
    fn a_key_holds_every_term_between_spaces() {
        let key = search_key(
            "Accueil CAF Lyon Part-Dieu",
            "Caisse d'allocations familiales",
            "Lyon",
            "CAF69-LYON-PARTDIEU",
        );
        assert!(key.starts_with(" accueil caf lyon part dieu caisse d allocations"));
        assert!(key.ends_with(" caf69 lyon partdieu "));
        for term in terms("caf lyon") {
            assert!(key.contains(&format!(" {term}")));
        }
        assert_eq!(name_key("Saint-Lô"), " saint lo ");
    }

    #[test]
    fn departements_of_postal_codes() {
        for (postal, dept) in [
            ("69003", Some("69")),
            ("01000", Some("01")),
            ("20000", Some("2A")),
            ("20190", Some("2A")),
            ("20200", Some("2B")),
            ("97400", Some("974")),
            ("98800", Some("988")),
            ("6900", None),
            ("69 003", None),
            ("６９００３", None),
            ("", None),
        ] {
            assert_eq!(departement(postal).as_deref(), dept, "{postal:?}");
        }
        assert_eq!(parse_departement("2a").as_deref(), Some("2A"));
        assert_eq!(parse_departement(" 69 ").as_deref(), Some("69"));
        for bad in ["20", "00", "96", "970", "977", "6", "690", "AB"] {
            assert_eq!(parse_departement(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn distances_and_boxes() {
        let lyon = Point::new(45.7606, 4.8590).expect("point");
        let villeurbanne = Point::new(45.7719, 4.8902).expect("point");
        let d = lyon.distance_km(villeurbanne);
        assert!((2.6..2.8).contains(&d), "{d}");
        let paris = Point::new(48.8566, 2.3522).expect("point");
        let d = paris.distance_km(lyon);
        assert!((390.0..394.0).contains(&d), "{d}");
        // Every point within the radius is inside the box.
        let b = lyon.bounding_box(10.0);
        for bearing in 0..36 {
            let angle = f64::from(bearing) * 10.0_f64.to_radians();
            let (dlat, dlon) = (
                (9.99 / EARTH_RADIUS_KM).to_degrees() * angle.cos(),
                (9.99 / EARTH_RADIUS_KM).to_degrees() * angle.sin() / lyon.longitude_scale(),
            );
            let p = Point::new(lyon.latitude + dlat, lyon.longitude + dlon).expect("point");
            assert!(lyon.distance_km(p) <= 10.0);
            assert!((b.min_latitude..=b.max_latitude).contains(&p.latitude));
            assert!((b.min_longitude..=b.max_longitude).contains(&p.longitude));
        }
        let pole = Point::new(89.99, 0.0).expect("point").bounding_box(100.0);
        assert_eq!(pole.max_latitude, 90.0);
        assert_eq!(pole.max_longitude - pole.min_longitude, 360.0);
        assert_eq!(Point::new(91.0, 0.0), None);
        assert_eq!(Point::new(f64::NAN, 0.0), None);
    }

    #[test]
    fn a_search_is_bounded_and_needs_a_criterion() {
        let parse = |input: SearchInput<'_>| Search::parse(&input);
        let fields = |input: SearchInput<'_>| -> Vec<String> {
            parse(input)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(SearchInput::default()), ["query"]);
        assert_eq!(
            fields(SearchInput {
                query: " \u{3000} ",
                ..Default::default()
            }),
            ["query"]
        );
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            fields(SearchInput {
                query: &long,
                ..Default::default()
            }),
            ["query"]
        );
        assert_eq!(
            fields(SearchInput {
                query: "a b c d e f g h i",
                postal_code: "6900",
                departement: "99",
                latitude: Some(45.0),
                radius_km: Some(500.0),
                ..Default::default()
            }),
            ["query", "postal_code", "departement", "longitude"]
        );
        assert_eq!(
            fields(SearchInput {
                latitude: Some(45.0),
                longitude: Some(4.0),
                radius_km: Some(f64::INFINITY),
                ..Default::default()
            }),
            ["radius_km"]
        );
        assert_eq!(
            fields(SearchInput {
                network: "CAF",
                radius_km: Some(5.0),
                ..Default::default()
            }),
            ["radius_km"]
        );
        let search = parse(SearchInput {
            query: "CAF caf Lyon",
            latitude: Some(45.76),
            longitude: Some(4.86),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(search.terms, ["caf", "lyon"]);
        assert_eq!(search.near.map(|n| n.radius_km), Some(DEFAULT_RADIUS_KM));
    }

    #[test]
    fn a_location_is_indexed_by_its_distinct_terms_and_a_word_finds_the_terms_it_begins() {
        let terms = location_terms(
            "Accueil CAF St-Étienne",
            "Caisse d'allocations",
            "Saint-Étienne",
            "CAF42-SE",
        );
        assert_eq!(
            terms,
            [
                "accueil",
                "allocations",
                "caf",
                "caf42",
                "caisse",
                "d",
                "etienne",
                "saint",
                "se"
            ]
        );
        let (lo, hi) = begins_range("eti");
        for t in &terms {
            let inside = t.as_str() >= lo.as_str() && t.as_str() < hi.as_str();
            assert_eq!(inside, t.starts_with("eti"), "{t}");
        }
        let (lo, hi) = begins_range("caf");
        assert!("caf42" >= lo.as_str() && "caf42" < hi.as_str());
        assert!("cafe\u{10FFFE}" < hi.as_str() && "cag" >= hi.as_str());
    }
}
