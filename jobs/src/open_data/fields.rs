//! The three datasets' columns, once: the CSV header, the JSON keys and the TableSchema
//! (`schema-<dataset>.json`) all come from these lists, so a file cannot drift from its
//! schema. Names follow the Services Publics + datasets where they have one
//! (docs/open-data.md gives each mapping).

use boucle::domain::codes::{Audience, Channel, Frequency, Satisfaction, Tag};
use boucle::domain::french;
use boucle::domain::indicators::{IndicatorCode, Scope};

/// A column's TableSchema type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM`.
    YearMonth,
}

impl Kind {
    pub fn table_schema(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::YearMonth => "yearmonth",
        }
    }
}

/// One column.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// The only values allowed, when the column is an enumeration.
    pub values: Vec<String>,
    /// A regular expression every value matches.
    pub pattern: Option<&'static str>,
}

fn field(name: &'static str, title: &'static str, description: &'static str, kind: Kind) -> Field {
    Field {
        name,
        title,
        description,
        kind,
        required: false,
        values: Vec::new(),
        pattern: None,
    }
}

fn required(mut f: Field) -> Field {
    f.required = true;
    f
}

fn one_of(mut f: Field, values: impl IntoIterator<Item = impl Into<String>>) -> Field {
    f.values = values.into_iter().map(Into::into).collect();
    f
}

fn pattern(mut f: Field, p: &'static str) -> Field {
    f.pattern = Some(p);
    f
}

/// A dataset: its file stem, title, description and columns.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub stem: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub fields: Vec<Field>,
}

/// The columns that say where, shared by every dataset.
fn structure_fields() -> Vec<Field> {
    vec![
        required(field(
            "code_structure",
            "Code de la structure",
            "Code stable de la structure (lieu de service ou niveau de réseau).",
            Kind::String,
        )),
        field(
            "typologie",
            "Typologie",
            "Typologie de la structure (« Caisse d'allocations familiales »…).",
            Kind::String,
        ),
        required(field(
            "structure",
            "Structure",
            "Nom de la structure.",
            Kind::String,
        )),
        pattern(
            field(
                "code_postal",
                "Code postal",
                "Code postal à cinq chiffres.",
                Kind::String,
            ),
            "[0-9]{5}",
        ),
        field("ville", "Ville", "Commune de la structure.", Kind::String),
        field(
            "code_structure_parente",
            "Code de la structure parente",
            "Code de la structure à laquelle celle-ci est rattachée ; vide pour une tête de réseau.",
            Kind::String,
        ),
    ]
}

fn updated() -> Field {
    required(field(
        "date_de_mise_a_jour",
        "Date de mise à jour",
        "Date à laquelle la ligne a été publiée ou modifiée pour la dernière fois.",
        Kind::Date,
    ))
}

pub fn resultats() -> Dataset {
    let mut fields = structure_fields();
    fields.extend([
        required(one_of(
            field(
                "perimetre",
                "Périmètre",
                "« structure » : les seules expériences déposées sur la structure ; « structure et rattachées » : la structure et toutes celles qui lui sont rattachées. Pour additionner sans double compte, ne retenir qu'un périmètre « structure » et le public « ensemble des publics ».",
                Kind::String,
            ),
            [Scope::SelfOnly, Scope::Subtree].map(french::perimeter),
        )),
        required(one_of(
            field(
                "public",
                "Public",
                "Les expériences de qui la valeur compte : « ensemble des publics » (tous les publics servis : usagers, professionnels, partenaires, bénévoles, donateurs, patients ; jamais les agents, dont le baromètre est interne), ou un seul de ces publics. L'ensemble est la somme des publics : pour additionner, ne retenir que « ensemble des publics ».",
                Kind::String,
            ),
            std::iter::once(None)
                .chain(Audience::ALL.iter().filter(|a| a.is_public()).map(|a| Some(*a)))
                .map(french::public),
        )),
        required(one_of(
            field(
                "code_indicateur",
                "Code de l'indicateur",
                "Code stable de l'indicateur.",
                Kind::String,
            ),
            IndicatorCode::ALL.iter().map(|c| c.code()),
        )),
        required(field(
            "libelle_indicateur",
            "Indicateur",
            "Intitulé publié de l'indicateur.",
            Kind::String,
        )),
        required(field(
            "valeur",
            "Valeur",
            "Valeur de l'indicateur : un entier pour les décomptes, une décimale pour les taux et scores. Une valeur sous le seuil de publication est absente du fichier, jamais nulle.",
            Kind::Number,
        )),
        required(field(
            "unite",
            "Unité",
            "Unité de la valeur (nombre, %, points, jours, /7).",
            Kind::String,
        )),
        required(field(
            "taille_echantillon",
            "Taille de l'échantillon",
            "Nombre d'expériences (ou de réponses) sur lequel la valeur est calculée.",
            Kind::Integer,
        )),
        field(
            "intervalle_bas",
            "Borne basse de l'intervalle de confiance",
            "Borne basse de l'intervalle de confiance à 95 %, quand l'indicateur en a un.",
            Kind::Number,
        ),
        field(
            "intervalle_haut",
            "Borne haute de l'intervalle de confiance",
            "Borne haute de l'intervalle de confiance à 95 %, quand l'indicateur en a un.",
            Kind::Number,
        ),
        required(field(
            "periode",
            "Période",
            "Mois mesuré (AAAA-MM).",
            Kind::YearMonth,
        )),
        required(one_of(
            field(
                "frequence",
                "Fréquence",
                "Fréquence de calcul de l'indicateur.",
                Kind::String,
            ),
            Frequency::ALL.iter().map(|f| french::frequency(*f)),
        )),
        updated(),
    ]);
    Dataset {
        stem: "resultats",
        title: "Résultats des structures",
        description: "Indicateurs publiés par structure, périmètre, indicateur et mois.",
        fields,
    }
}

pub fn experiences() -> Dataset {
    let mut fields = vec![required(pattern(
        field(
            "identifiant",
            "Identifiant de l'expérience",
            "Identifiant stable de l'expérience publiée.",
            Kind::String,
        ),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ))];
    fields.extend(structure_fields());
    fields.extend([
        required(one_of(
            field(
                "canal",
                "Canal",
                "Canal par lequel l'usager a été en contact avec la structure.",
                Kind::String,
            ),
            Channel::ALL.iter().map(|c| french::channel(*c)),
        )),
        required(one_of(
            field(
                "ressenti",
                "Ressenti",
                "Ressenti général de l'usager.",
                Kind::String,
            ),
            Satisfaction::ALL.iter().map(|s| french::satisfaction(*s)),
        )),
        field(
            "titre",
            "Titre",
            "Titre de l'expérience, données personnelles masquées.",
            Kind::String,
        ),
        required(field(
            "description",
            "Description",
            "Récit de l'expérience, données personnelles masquées.",
            Kind::String,
        )),
        field(
            "proposition",
            "Proposition d'amélioration",
            "Proposition de l'usager, données personnelles masquées.",
            Kind::String,
        ),
        field(
            "pseudonyme",
            "Pseudonyme",
            "Signature choisie par l'usager.",
            Kind::String,
        ),
        field(
            "etiquettes",
            "Étiquettes",
            ETIQUETTES.as_str(),
            Kind::String,
        ),
        field(
            "date_experience",
            "Date de l'expérience",
            "Date à laquelle l'usager a vécu l'expérience, s'il l'a donnée.",
            Kind::Date,
        ),
        required(field(
            "date_de_depot",
            "Date de dépôt",
            "Date à laquelle l'expérience a été déposée (heure de Paris).",
            Kind::Date,
        )),
        required(field(
            "nombre_reponses",
            "Nombre de réponses publiées",
            "Nombre de réponses publiées par les structures.",
            Kind::Integer,
        )),
        field(
            "reponse_structure",
            "Structure ayant répondu",
            "Code de la structure de la première réponse publiée.",
            Kind::String,
        ),
        field(
            "reponse",
            "Réponse",
            "Texte de la première réponse publiée, données personnelles masquées.",
            Kind::String,
        ),
        field(
            "date_reponse",
            "Date de la réponse",
            "Date de publication de la première réponse.",
            Kind::Date,
        ),
        updated(),
    ]);
    Dataset {
        stem: "experiences",
        title: "Expériences publiées",
        description: "Expériences d'usagers publiées après modération, textes masqués, avec les réponses publiées des structures.",
        fields,
    }
}

/// The tags as the « etiquettes » column writes them, for its description.
static ETIQUETTES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let tags: Vec<&str> = Tag::ALL.iter().map(|t| french::tag(*t)).collect();
    format!(
        "Étiquettes générales de l'expérience, séparées par « ; » ({}).",
        tags.join(", ")
    )
});

pub fn structures() -> Dataset {
    let mut fields = structure_fields();
    fields.extend([
        pattern(
            field(
                "departement",
                "Département",
                "Code du département, déduit du code postal.",
                Kind::String,
            ),
            "[0-9]{2}|2A|2B|9[78][0-9]",
        ),
        field(
            "latitude",
            "Latitude",
            "Latitude WGS 84, en degrés décimaux.",
            Kind::Number,
        ),
        field(
            "longitude",
            "Longitude",
            "Longitude WGS 84, en degrés décimaux.",
            Kind::Number,
        ),
        required(field(
            "delai_de_reponse_jours",
            "Délai de réponse annoncé",
            "Délai, en jours, dans lequel la structure s'engage à répondre aux expériences.",
            Kind::Integer,
        )),
        updated(),
    ]);
    Dataset {
        stem: "structures",
        title: "Structures",
        description: "Registre public des structures actives : code, typologie, nom, adresse, rattachement et coordonnées.",
        fields,
    }
}

pub fn all() -> [Dataset; 3] {
    [resultats(), experiences(), structures()]
}
