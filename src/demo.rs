//! A realistic, deterministic demo: five networks of French public services with regional
//! and local sites in real communes, and twelve months of varied experiences in French
//! (moderated, some answered, a few carrying personal data that the redaction masks).
//!
//! The demo's clock is the start of the day in the reporting time zone: the same seed on the
//! same day gives the same data, at whatever hour it runs. Seeding is skipped when the demo
//! networks already exist, so `--demo` can be passed at every start.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::domain::answer_delays::DAY_MS;
use crate::domain::codes::{Direction, Frequency, ResponseStatus};
use crate::domain::feedback::{LocationRef, NewFeedback};
use crate::domain::location::{LocationSpec, ParentRef};
use crate::domain::{
    Audience, Caller, Channel, ModerationStatus, Period, RejectReason, Role, Satisfaction, Tag,
};
use crate::store::Store;
use crate::store::feedback::{Answer, Capture};
use crate::store::locations::LocationKey;

pub const DEFAULT_SEED: u64 = 2026;

/// What the demo holds.
#[derive(Debug, Default)]
pub struct Summary {
    pub already_present: bool,
    pub networks: usize,
    pub locations: usize,
    pub feedback: usize,
    pub responses: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.already_present {
            write!(f, "Demo data already present (seeded on an earlier start).")
        } else {
            write!(
                f,
                "Demo data seeded: {} networks, {} locations, {} experiences over twelve months, {} published answers.",
                self.networks, self.locations, self.feedback, self.responses
            )
        }
    }
}

struct Site {
    code: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    postal_code: &'static str,
    city: &'static str,
    coordinates: (f64, f64),
    target_days: Option<u32>,
    min_sample: Option<u32>,
    /// Set on a network whose agents answer a monthly internal barometer.
    min_sample_agents: Option<u32>,
}

const fn site(
    code: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    postal_code: &'static str,
    city: &'static str,
    coordinates: (f64, f64),
) -> Site {
    Site {
        code,
        name,
        parent,
        postal_code,
        city,
        coordinates,
        target_days: None,
        min_sample: None,
        min_sample_agents: None,
    }
}

struct Network {
    typology: &'static str,
    /// Channel weights: in person, phone, online, e-mail, mail, video.
    channels: [u32; 6],
    sites: Vec<Site>,
}

fn networks() -> Vec<Network> {
    vec![
        Network {
            typology: "Caisse d'allocations familiales",
            channels: [40, 25, 25, 5, 3, 2],
            sites: vec![
                site(
                    "CAF",
                    "Réseau des Caisses d'allocations familiales",
                    None,
                    "75014",
                    "Paris",
                    (48.8331, 2.3264),
                ),
                site(
                    "CAF69",
                    "CAF du Rhône",
                    Some("CAF"),
                    "69003",
                    "Lyon",
                    (45.7606, 4.8590),
                ),
                site(
                    "CAF69-LYON-PARTDIEU",
                    "Accueil CAF Lyon Part-Dieu",
                    Some("CAF69"),
                    "69003",
                    "Lyon",
                    (45.7610, 4.8570),
                ),
                site(
                    "CAF69-VILLEURBANNE",
                    "Accueil CAF Villeurbanne",
                    Some("CAF69"),
                    "69100",
                    "Villeurbanne",
                    (45.7719, 4.8902),
                ),
                site(
                    "CAF69-VENISSIEUX",
                    "Accueil CAF Vénissieux",
                    Some("CAF69"),
                    "69200",
                    "Vénissieux",
                    (45.6975, 4.8867),
                ),
                site(
                    "CAF33",
                    "CAF de la Gironde",
                    Some("CAF"),
                    "33000",
                    "Bordeaux",
                    (44.8378, -0.5792),
                ),
                site(
                    "CAF33-BORDEAUX",
                    "Accueil CAF Bordeaux Mériadeck",
                    Some("CAF33"),
                    "33000",
                    "Bordeaux",
                    (44.8386, -0.5873),
                ),
                site(
                    "CAF33-MERIGNAC",
                    "Accueil CAF Mérignac",
                    Some("CAF33"),
                    "33700",
                    "Mérignac",
                    (44.8386, -0.6436),
                ),
            ],
        },
        Network {
            typology: "Caisse primaire d'assurance maladie",
            channels: [35, 30, 25, 5, 5, 0],
            sites: vec![
                Site {
                    target_days: Some(10),
                    ..site(
                        "CPAM",
                        "Réseau de l'Assurance Maladie",
                        None,
                        "75020",
                        "Paris",
                        (48.8630, 2.4010),
                    )
                },
                site(
                    "CPAM59",
                    "CPAM de Lille-Douai",
                    Some("CPAM"),
                    "59000",
                    "Lille",
                    (50.6292, 3.0573),
                ),
                site(
                    "CPAM59-LILLE",
                    "Accueil CPAM Lille Centre",
                    Some("CPAM59"),
                    "59000",
                    "Lille",
                    (50.6365, 3.0635),
                ),
                site(
                    "CPAM59-ROUBAIX",
                    "Accueil CPAM Roubaix",
                    Some("CPAM59"),
                    "59100",
                    "Roubaix",
                    (50.6942, 3.1746),
                ),
                site(
                    "CPAM59-DOUAI",
                    "Accueil CPAM Douai",
                    Some("CPAM59"),
                    "59500",
                    "Douai",
                    (50.3714, 3.0800),
                ),
                site(
                    "CPAM13",
                    "CPAM des Bouches-du-Rhône",
                    Some("CPAM"),
                    "13003",
                    "Marseille",
                    (43.3090, 5.3810),
                ),
                site(
                    "CPAM13-MARSEILLE",
                    "Accueil CPAM Marseille Saint-Charles",
                    Some("CPAM13"),
                    "13001",
                    "Marseille",
                    (43.3027, 5.3806),
                ),
                site(
                    "CPAM13-AIX",
                    "Accueil CPAM Aix-en-Provence",
                    Some("CPAM13"),
                    "13100",
                    "Aix-en-Provence",
                    (43.5297, 5.4474),
                ),
            ],
        },
        Network {
            typology: "Agence France Travail",
            channels: [45, 20, 25, 5, 0, 5],
            sites: vec![
                site(
                    "FT",
                    "Réseau France Travail",
                    None,
                    "75020",
                    "Paris",
                    (48.8566, 2.3522),
                ),
                site(
                    "FT-BRE",
                    "France Travail Bretagne",
                    Some("FT"),
                    "35000",
                    "Rennes",
                    (48.1173, -1.6778),
                ),
                site(
                    "FT35-RENNES-NORD",
                    "Agence France Travail Rennes Nord",
                    Some("FT-BRE"),
                    "35700",
                    "Rennes",
                    (48.1300, -1.6700),
                ),
                site(
                    "FT29-BREST",
                    "Agence France Travail Brest",
                    Some("FT-BRE"),
                    "29200",
                    "Brest",
                    (48.3904, -4.4861),
                ),
                site(
                    "FT56-LORIENT",
                    "Agence France Travail Lorient",
                    Some("FT-BRE"),
                    "56100",
                    "Lorient",
                    (47.7483, -3.3700),
                ),
            ],
        },
        Network {
            typology: "Préfecture",
            channels: [60, 10, 25, 5, 0, 0],
            sites: vec![
                Site {
                    target_days: Some(30),
                    ..site(
                        "PREF",
                        "Réseau des préfectures",
                        None,
                        "75008",
                        "Paris",
                        (48.8720, 2.3160),
                    )
                },
                site(
                    "PREF31",
                    "Préfecture de la Haute-Garonne",
                    Some("PREF"),
                    "31000",
                    "Toulouse",
                    (43.6045, 1.4440),
                ),
                site(
                    "PREF31-ETRANGERS",
                    "Préfecture de la Haute-Garonne — accueil des étrangers",
                    Some("PREF31"),
                    "31000",
                    "Toulouse",
                    (43.6040, 1.4470),
                ),
                site(
                    "PREF67",
                    "Préfecture du Bas-Rhin",
                    Some("PREF"),
                    "67000",
                    "Strasbourg",
                    (48.5734, 7.7521),
                ),
            ],
        },
        Network {
            typology: "Espace France Services",
            channels: [75, 15, 5, 3, 2, 0],
            sites: vec![
                Site {
                    target_days: Some(7),
                    min_sample: Some(5),
                    // Its agents answer a monthly barometer, 6 to 10 a site: enough for
                    // their figures and the « symétrie des attentions » across the sites.
                    min_sample_agents: Some(5),
                    ..site(
                        "FS",
                        "Réseau France Services",
                        None,
                        "75007",
                        "Paris",
                        (48.8566, 2.3522),
                    )
                },
                site(
                    "FS-OCC",
                    "France Services Occitanie",
                    Some("FS"),
                    "31000",
                    "Toulouse",
                    (43.6047, 1.4442),
                ),
                site(
                    "FS12-MILLAU",
                    "France Services Millau",
                    Some("FS-OCC"),
                    "12100",
                    "Millau",
                    (44.0980, 3.0780),
                ),
                site(
                    "FS46-FIGEAC",
                    "France Services Figeac",
                    Some("FS-OCC"),
                    "46100",
                    "Figeac",
                    (44.6086, 2.0317),
                ),
                site(
                    "FS-ARA",
                    "France Services Auvergne-Rhône-Alpes",
                    Some("FS"),
                    "69002",
                    "Lyon",
                    (45.7485, 4.8270),
                ),
                site(
                    "FS15-AURILLAC",
                    "France Services Aurillac",
                    Some("FS-ARA"),
                    "15000",
                    "Aurillac",
                    (44.9264, 2.4397),
                ),
                site(
                    "FS07-PRIVAS",
                    "France Services Privas",
                    Some("FS-ARA"),
                    "07000",
                    "Privas",
                    (44.7353, 4.5990),
                ),
            ],
        },
    ]
}

pub const POSITIVE: &[(&str, &str, &[Tag])] = &[
    (
        "Accueil chaleureux",
        "L'agente a pris le temps de tout m'expliquer, avec beaucoup de patience. Je suis reparti avec mon dossier complet.",
        &[Tag::Relation],
    ),
    (
        "Rendez-vous efficace",
        "Rendez-vous à l'heure, moins de dix minutes d'attente, et ma demande a été traitée sur place.",
        &[Tag::Reactivity],
    ),
    (
        "Très bonne explication",
        "On m'a montré comment faire la démarche en ligne, je saurai la refaire seule la prochaine fois.",
        &[Tag::Information, Tag::Simplicity],
    ),
    (
        "Merci pour l'aide",
        "Conseiller très à l'écoute de ma situation, des réponses claires et un suivi par courriel.",
        &[Tag::Relation, Tag::Information],
    ),
    (
        "Locaux accessibles",
        "Accès facile en fauteuil, rampe et guichet bas, le personnel était attentionné.",
        &[Tag::Accessibility],
    ),
    (
        "Réponse rapide",
        "J'ai eu une réponse à ma question en deux jours, c'est appréciable.",
        &[Tag::Reactivity],
    ),
];
pub const NEUTRAL: &[(&str, &str, &[Tag])] = &[
    (
        "Correct mais long",
        "Accueil correct, mais l'attente a duré près d'une heure avant d'être reçu.",
        &[Tag::Reactivity],
    ),
    (
        "Démarche compliquée",
        "La personne était aimable, mais il m'a fallu revenir avec un justificatif qui n'était indiqué nulle part.",
        &[Tag::Information, Tag::Simplicity],
    ),
    (
        "Plutôt bien",
        "Ma demande est en cours, on verra. Le site internet est peu clair sur les délais.",
        &[Tag::Information],
    ),
    (
        "Horaires restreints",
        "Le service est bien, mais les horaires d'ouverture ne sont pas adaptés quand on travaille.",
        &[Tag::Accessibility],
    ),
];
pub const NEGATIVE: &[(&str, &str, &[Tag])] = &[
    (
        "Impossible de joindre le service",
        "J'ai appelé cinq fois sans réussir à avoir quelqu'un, la ligne coupe au bout de vingt minutes.",
        &[Tag::Accessibility, Tag::Reactivity],
    ),
    (
        "Dossier perdu",
        "On m'a demandé trois fois les mêmes pièces, mon dossier semble avoir été perdu.",
        &[Tag::Reactivity, Tag::Simplicity],
    ),
    (
        "Accueil désagréable",
        "L'agent au guichet a été sec et ne m'a pas laissé expliquer ma situation.",
        &[Tag::Relation],
    ),
    (
        "Aucune information",
        "Je n'ai reçu aucune information sur l'avancement de ma demande depuis deux mois.",
        &[Tag::Information],
    ),
    (
        "Attente interminable",
        "Plus de deux heures d'attente debout, sans chaise ni information sur le temps restant.",
        &[Tag::Accessibility, Tag::Reactivity],
    ),
];
pub const PROPOSALS: &[&str] = &[
    "Envoyer un SMS quand le dossier avance.",
    "Ouvrir un créneau le samedi matin.",
    "Indiquer sur le site la liste complète des pièces à fournir.",
    "Installer des chaises et un écran d'attente.",
    "Proposer des rendez-vous en visio.",
    "",
    "",
    "",
];
/// Free texts that carry personal data: they show the redaction at work.
pub const WITH_PERSONAL_DATA: &[&str] = &[
    "Vous pouvez me rappeler au 06 12 34 56 78 en fin de journée.",
    "Mon adresse : 12 rue de la République, mon courriel camille.martin@example.org.",
    "Mon numéro de sécurité sociale 1 85 05 78 006 084 91 n'a pas été pris en compte.",
    "Le remboursement devait arriver sur FR76 3000 6000 0112 3456 7890 189.",
];
pub const PSEUDONYMS: &[&str] = &[
    "Camille",
    "Karim B.",
    "Sophie",
    "Jean-Marc",
    "Nadia",
    "Usager de Lyon",
    "Maëlle",
    "Thierry",
    "Fatou",
    "Hélène R.",
    "",
    "",
    "",
];
pub const PROCEDURES: &[&str] = &[
    "Prime d'activité",
    "Aide au logement",
    "Carte Vitale",
    "Inscription",
    "Titre de séjour",
    "Remboursement de soins",
    "Allocations familiales",
    "Actualisation",
    "",
];
const ANSWERS_POSITIVE: &[&str] = &[
    "Merci pour votre message, nous transmettons vos remerciements à l'équipe d'accueil.",
    "Merci pour ce retour qui fait plaisir à toute l'équipe. À bientôt !",
];
const ANSWERS_NEGATIVE: &[&str] = &[
    "Nous sommes désolés de cette expérience. Nous avons renforcé l'accueil téléphonique en fin de matinée et vous invitons à nous recontacter.",
    "Merci d'avoir pris le temps de nous écrire. Votre dossier a été retrouvé et est en cours de traitement ; un conseiller vous recontactera.",
    "Votre remarque sur l'attente est juste : nous testons depuis ce mois-ci un système de rendez-vous et d'affichage du temps d'attente.",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Seeding volume: relative month weights (January and September high, August low).
const SEASON: [f64; 12] = [
    1.3, 1.1, 1.0, 0.95, 0.9, 0.9, 0.75, 0.55, 1.25, 1.1, 1.0, 0.85,
];

/// Seeds the demo if absent. Deterministic for a seed and the current month.
/// One demo experience to store: the request, its id, location, instant, status and reason.
type Seeded = (
    NewFeedback,
    Uuid,
    Uuid,
    i64,
    ModerationStatus,
    Option<RejectReason>,
);

/// What agents say of their own site in the internal barometer.
const AGENT_TEXTS: &[(Satisfaction, &str, &str)] = &[
    (
        Satisfaction::Positive,
        "Équipe soudée",
        "L'équipe s'entraide et les usagers repartent avec une solution.",
    ),
    (
        Satisfaction::Positive,
        "Outils adaptés",
        "Les nouveaux outils font gagner du temps sur les dossiers simples.",
    ),
    (
        Satisfaction::Neutral,
        "Charge variable",
        "Certaines semaines sont calmes, d'autres très chargées.",
    ),
    (
        Satisfaction::Negative,
        "Accueil sous tension",
        "Trop d'usagers à la fois et pas assez de postes ouverts.",
    ),
    (
        Satisfaction::Negative,
        "Formation insuffisante",
        "Les nouvelles démarches arrivent sans formation préalable.",
    ),
];

/// The month `bounds` of a site's agents' barometer: 6 to 10 agents answer, their
/// satisfaction following the site's quality of service with some noise of its own (the
/// « symétrie des attentions » the internal results measure).
fn agents_barometer(
    rng: &mut StdRng,
    (start, end): (i64, i64),
    code: &str,
    location_id: Uuid,
    quality: f64,
    out: &mut Vec<Seeded>,
) {
    if end <= start {
        return;
    }
    let mood = (quality + rng.random_range(-0.15..0.10)).clamp(0.05, 0.95);
    for _ in 0..rng.random_range(6..=10) {
        let at = rng.random_range(start..end);
        let wanted = if rng.random_bool(mood) {
            Satisfaction::Positive
        } else if rng.random_bool(0.3) {
            Satisfaction::Neutral
        } else {
            Satisfaction::Negative
        };
        let texts: Vec<_> = AGENT_TEXTS.iter().filter(|t| t.0 == wanted).collect();
        let (satisfaction, title, story) = *texts[rng.random_range(0..texts.len())];
        let mut random = [0u8; 10];
        rng.fill(&mut random);
        let id = uuid::Builder::from_unix_timestamp_millis(at as u64, &random).into_uuid();
        let new = NewFeedback {
            location: LocationRef::Code(code.to_owned()),
            channel: Channel::Online,
            audience: Audience::Agent,
            satisfaction,
            nps: None,
            effort: None,
            title: title.to_owned(),
            story: story.to_owned(),
            proposal: String::new(),
            procedure: String::new(),
            tags: BTreeSet::new(),
            labels: BTreeSet::new(),
            occurred_on: None,
            pseudonym: "Agent d'accueil".to_owned(),
            contact_email: None,
            submitted_at: Some(at),
        };
        out.push((new, id, location_id, at, ModerationStatus::Published, None));
    }
}

/// The demo's clock at `now_ms`: the first instant of that day in `tz`. Experiences run up
/// to it, and what depends on age (pending moderation, answers not yet given) is measured
/// from it, so that a seed gives the same data all day long.
pub fn clock(now_ms: i64, tz: Tz) -> i64 {
    chrono::Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .map_or(now_ms, |t| {
            crate::domain::period::local_midnight_ms(t.with_timezone(&tz).date_naive(), tz)
        })
}

/// Seeds the demo as of `now_ms` (see [`clock`]).
pub async fn seed(store: &Store, seed: u64, tz: Tz, now_ms: i64) -> crate::Result<Summary> {
    if crate::app::locations::find(store, &LocationKey::Code("CAF".into()))
        .await
        .is_ok()
    {
        return Ok(Summary {
            already_present: true,
            ..Summary::default()
        });
    }
    let now = clock(now_ms, tz);
    let current = Period::containing(now, tz);
    let mut rng =
        StdRng::seed_from_u64(seed ^ (u64::from(current.month()) << 32) ^ current.year() as u64);

    let (collector, _) = crate::app::keys::create(
        store,
        None,
        "Démo — collecte multicanale",
        Role::Collector,
        None,
    )
    .await?;
    let caller = Caller {
        key_id: collector.key.id,
        name: collector.key.name.clone(),
        role: Role::Admin,
        scope: None,
    };

    let mut summary = Summary::default();
    let mut leaves = Vec::new();
    for network in networks() {
        summary.networks += 1;
        for s in &network.sites {
            let spec = LocationSpec {
                code: s.code.into(),
                name: s.name.into(),
                typology: network.typology.into(),
                parent: s.parent.map(|p| ParentRef::Code(p.into())),
                postal_code: s.postal_code.into(),
                city: s.city.into(),
                coordinates: Some(s.coordinates),
                response_target_days: s.target_days,
                min_sample: s.min_sample,
                min_sample_agents: s.min_sample_agents,
                active: true,
            };
            let view = crate::app::locations::create(store, &caller, &spec).await?;
            summary.locations += 1;
            let is_leaf = !network.sites.iter().any(|o| o.parent == Some(s.code));
            if is_leaf {
                // Skewed sizes and a quality of service of its own for each site.
                let size = 6.0 + 50.0 * rng.random::<f64>().powi(2);
                let quality = rng.random_range(0.40..0.85);
                leaves.push((
                    view.location.id,
                    s.code,
                    size,
                    quality,
                    network.channels,
                    view.effective_response_target_days,
                    view.effective_min_sample_agents
                        < crate::domain::audiences::DEFAULT_MIN_SAMPLE_AGENTS,
                ));
            }
        }
    }

    // Twelve months: the eleven before the current one, and the current one up to now.
    let mut period = current;
    for _ in 0..11 {
        period = period.previous();
    }
    let mut feedback: Vec<Seeded> = Vec::new();
    let mut answers: Vec<Answer> = Vec::new();
    // The agents' answers draw from a generator of their own: every other row of a seed
    // stays what it was before the barometer was seeded.
    let mut agents_rng = StdRng::seed_from_u64(seed ^ 0xA6E7_5BA2_0000_0000);
    for _ in 0..12 {
        let (start, end) = period.bounds_ms(tz);
        let end = end.min(now);
        let season = SEASON[(period.month() - 1) as usize];
        for (location_id, code, size, quality, channels, target_days, barometer) in &leaves {
            if *barometer {
                agents_barometer(
                    &mut agents_rng,
                    (start, end),
                    code,
                    *location_id,
                    *quality,
                    &mut feedback,
                );
            }
            let count = (size * season * rng.random_range(0.8..1.2)).round() as usize;
            for _ in 0..count {
                if end <= start {
                    break;
                }
                let at = rng.random_range(start..end);
                let roll: f64 = rng.random();
                let satisfaction = if roll < *quality {
                    Satisfaction::Positive
                } else if roll < quality + (1.0 - quality) * 0.4 {
                    Satisfaction::Neutral
                } else {
                    Satisfaction::Negative
                };
                let (title, story, tags) = match satisfaction {
                    Satisfaction::Positive => pick(&mut rng, POSITIVE),
                    Satisfaction::Neutral => pick(&mut rng, NEUTRAL),
                    Satisfaction::Negative => pick(&mut rng, NEGATIVE),
                };
                let mut story = (*story).to_owned();
                if rng.random_bool(0.05) {
                    story = format!("{story} {}", pick(&mut rng, WITH_PERSONAL_DATA));
                }
                let nps = rng.random_bool(0.6).then(|| match satisfaction {
                    Satisfaction::Positive => rng.random_range(7..=10),
                    Satisfaction::Neutral => rng.random_range(4..=8),
                    Satisfaction::Negative => rng.random_range(0..=5),
                });
                let effort = rng.random_bool(0.5).then(|| match satisfaction {
                    Satisfaction::Positive => rng.random_range(4..=7),
                    Satisfaction::Neutral => rng.random_range(3..=6),
                    Satisfaction::Negative => rng.random_range(1..=4),
                });
                let channel_roll = rng.random_range(0..channels.iter().sum::<u32>());
                let mut acc = 0;
                let mut channel = Channel::Other;
                for (weight, c) in channels.iter().zip([
                    Channel::InPerson,
                    Channel::Phone,
                    Channel::Online,
                    Channel::Email,
                    Channel::Mail,
                    Channel::Video,
                ]) {
                    acc += weight;
                    if channel_roll < acc {
                        channel = c;
                        break;
                    }
                }
                let local_date = chrono::Utc
                    .timestamp_millis_opt(at)
                    .single()
                    .map(|t| t.with_timezone(&tz).date_naive());
                let new = NewFeedback {
                    location: LocationRef::Code((*code).to_owned()),
                    channel,
                    // Mostly usagers, and some of every other public (each gets its
                    // own figures where it has enough), agents included (their
                    // barometer is internal).
                    audience: if rng.random_bool(0.88) {
                        Audience::Usager
                    } else {
                        *pick(
                            &mut rng,
                            &[
                                Audience::Professional,
                                Audience::Partner,
                                Audience::Volunteer,
                                Audience::Donor,
                                Audience::Patient,
                                Audience::Agent,
                            ],
                        )
                    },
                    satisfaction,
                    nps,
                    effort,
                    title: (*title).to_owned(),
                    story,
                    proposal: (*pick(&mut rng, PROPOSALS)).to_owned(),
                    procedure: (*pick(&mut rng, PROCEDURES)).to_owned(),
                    tags: tags.iter().copied().collect::<BTreeSet<_>>(),
                    labels: BTreeSet::new(),
                    occurred_on: local_date,
                    pseudonym: (*pick(&mut rng, PSEUDONYMS)).to_owned(),
                    contact_email: rng
                        .random_bool(0.2)
                        .then(|| format!("usager{}@example.org", rng.random_range(1000..9999))),
                    submitted_at: Some(at),
                };
                let age_days = (now - at) / DAY_MS;
                let status_roll: f64 = rng.random();
                let (status, reason) = if age_days < 3 && status_roll < 0.7 {
                    (ModerationStatus::Pending, None)
                } else if status_roll < 0.04 {
                    (
                        ModerationStatus::Rejected,
                        Some(*pick(
                            &mut rng,
                            &[
                                RejectReason::Spam,
                                RejectReason::OutOfScope,
                                RejectReason::Abusive,
                            ],
                        )),
                    )
                } else if status_roll < 0.10 {
                    (ModerationStatus::Pending, None)
                } else {
                    (ModerationStatus::Published, None)
                };
                let mut random = [0u8; 10];
                rng.fill(&mut random);
                let id = uuid::Builder::from_unix_timestamp_millis(at as u64, &random).into_uuid();
                if status == ModerationStatus::Published {
                    let answer_probability = if satisfaction == Satisfaction::Positive {
                        0.4
                    } else {
                        0.75
                    };
                    if rng.random_bool(answer_probability) {
                        // Most answers within the announced delay, some late.
                        let days = rng.random_range(0.2..(f64::from(*target_days) * 1.4));
                        let published_at = at + (days * DAY_MS as f64) as i64;
                        if published_at < now {
                            let body = if satisfaction == Satisfaction::Positive {
                                pick(&mut rng, ANSWERS_POSITIVE)
                            } else {
                                pick(&mut rng, ANSWERS_NEGATIVE)
                            };
                            let mut r = [0u8; 10];
                            rng.fill(&mut r);
                            answers.push(Answer {
                                id: uuid::Builder::from_unix_timestamp_millis(
                                    published_at as u64,
                                    &r,
                                )
                                .into_uuid(),
                                feedback_id: id,
                                location_id: *location_id,
                                author: "L'équipe d'accueil".into(),
                                body: (*body).to_owned(),
                                status: ResponseStatus::Published,
                                created_at: published_at - 3_600_000,
                                updated_at: published_at,
                                published_at: Some(published_at),
                            });
                        }
                    }
                }
                feedback.push((new, id, *location_id, at, status, reason));
            }
        }
        period = period.next();
    }

    let redacted: Vec<_> = feedback.iter().map(|(f, ..)| f.redact()).collect();
    let captures: Vec<Capture<'_>> = feedback
        .iter()
        .zip(&redacted)
        .map(
            |((f, id, location_id, at, status, reason), (texts, pseudonym))| Capture {
                feedback: f,
                redacted: texts,
                redacted_pseudonym: pseudonym,
                location_id: *location_id,
                request_id: None,
                submitted_at: *at,
                id: Some(*id),
                status: *status,
                reject_reason: *reason,
            },
        )
        .collect();
    store.bulk_insert_feedback(caller.key_id, &captures).await?;
    store.bulk_insert_answers(caller.key_id, &answers).await?;
    summary.feedback = feedback.len();
    summary.responses = answers.len();
    Ok(summary)
}

/// What [`seed_work`] added.
#[derive(Debug, Default)]
pub struct Work {
    pub actions: usize,
    pub public_actions: usize,
    pub linked_experiences: usize,
    pub measurements: usize,
    pub recipients: usize,
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Demo work seeded: {} improvement actions ({} public, {} experiences linked), {} reported measurements, {} report recipients.",
            self.actions,
            self.public_actions,
            self.linked_experiences,
            self.measurements,
            self.recipients
        )
    }
}

/// One improvement action of the demo: where, what, under which engagement, how far.
struct DemoAction {
    location: &'static str,
    title: &'static str,
    description: &'static str,
    engagement: &'static str,
    owner: &'static str,
    public: bool,
    /// Planned, in progress at this percentage, or done.
    state: ActionState,
    /// Negative experiences of the location it answers.
    linked: usize,
}

enum ActionState {
    Planned,
    InProgress(u32),
    Done,
}

const ACTIONS: &[DemoAction] = &[
    DemoAction {
        location: "CAF69-LYON-PARTDIEU",
        title: "Accueil sans rendez-vous le samedi matin",
        description: "Un créneau de 9 h à 12 h, deux agents, pour les usagers qui ne peuvent pas venir en semaine.",
        engagement: "E2",
        owner: "Responsable de l'accueil",
        public: true,
        state: ActionState::Done,
        linked: 3,
    },
    DemoAction {
        location: "CAF69-LYON-PARTDIEU",
        title: "Rappel automatique quand la ligne est saturée",
        description: "L'usager laisse son numéro et il est rappelé dans la journée, au lieu d'attendre en ligne.",
        engagement: "E2",
        owner: "Plateforme téléphonique",
        public: true,
        state: ActionState::InProgress(60),
        linked: 2,
    },
    DemoAction {
        location: "CAF69-LYON-PARTDIEU",
        title: "Nouvelle signalétique du hall",
        description: "Des panneaux lisibles de loin, en français facile à lire et à comprendre.",
        engagement: "E1",
        owner: "Services généraux",
        public: true,
        state: ActionState::Planned,
        linked: 0,
    },
    DemoAction {
        location: "CAF69-LYON-PARTDIEU",
        title: "Formation de l'équipe à l'accueil des personnes handicapées",
        description: "Deux demi-journées pour toute l'équipe d'accueil, avec une association partenaire.",
        engagement: "E3",
        owner: "Ressources humaines",
        public: false,
        state: ActionState::InProgress(30),
        linked: 0,
    },
    DemoAction {
        location: "CPAM59-LILLE",
        title: "Pièces justificatives acceptées par courriel",
        description: "Plus besoin de revenir au guichet pour une pièce manquante.",
        engagement: "E5",
        owner: "Direction de la relation client",
        public: true,
        state: ActionState::Done,
        linked: 2,
    },
];

/// Reported indicators the demo measures every month, with their target.
const MEASURED: &[(&str, &str, &str, Direction, f64, f64)] = &[
    (
        "WAIT_TIME_MINUTES",
        "Temps d'attente moyen au guichet",
        "min",
        Direction::LowerIsBetter,
        24.0,
        15.0,
    ),
    (
        "PHONE_PICKUP_RATE",
        "Taux de décroché téléphonique",
        "%",
        Direction::HigherIsBetter,
        71.0,
        85.0,
    ),
];

/// Improvement actions (some public, some done, linked to the experiences they answer),
/// reported measurements with their targets for the last twelve months, and report
/// recipients: what a newcomer's first ListPublicActions and first PDF show. Run once,
/// after [`seed`], as of the same `now_ms`; deterministic for a seed and a day.
pub async fn seed_work(store: &Store, seed: u64, tz: Tz, now_ms: i64) -> crate::Result<Work> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

    use crate::domain::action::NewAction;
    use crate::domain::codes::ActionStatus;
    use crate::store::entities::feedback;
    use crate::store::indicators::{Definition, NewMeasurement};

    let now = clock(now_ms, tz);
    let current = Period::containing(now, tz);
    let today = chrono::Utc
        .timestamp_millis_opt(now)
        .single()
        .map_or(chrono::NaiveDate::MIN, |t| {
            t.with_timezone(&tz).date_naive()
        });
    let mut rng = StdRng::seed_from_u64(seed.rotate_left(17) ^ u64::from(current.month()));
    let (key, _) =
        crate::app::keys::create(store, None, "Démo — pilotage", Role::Admin, None).await?;
    let admin = Caller {
        key_id: key.key.id,
        name: key.key.name.clone(),
        role: Role::Admin,
        scope: None,
    };
    let id_of = async |code: &str| -> crate::Result<Uuid> {
        Ok(
            crate::app::locations::find(store, &LocationKey::Code(code.to_owned()))
                .await?
                .location
                .id,
        )
    };
    let mut work = Work::default();

    for demo in ACTIONS {
        let location_id = id_of(demo.location).await?;
        let action = crate::app::actions::create(
            store,
            &admin,
            &NewAction {
                location_id,
                title: demo.title.to_owned(),
                description: demo.description.to_owned(),
                engagement_code: demo.engagement.to_owned(),
                parent_id: None,
                weight: 1,
                owner: demo.owner.to_owned(),
                due_on: today.checked_add_days(chrono::Days::new(rng.random_range(20..120))),
                public: demo.public,
            },
        )
        .await?;
        let id = action.action.id;
        match demo.state {
            ActionState::Planned => {}
            ActionState::InProgress(progress) => {
                crate::app::actions::transition(
                    store,
                    &admin,
                    id,
                    ActionStatus::InProgress,
                    Some(progress),
                    "Lancée après les retours des usagers.",
                    today,
                )
                .await?;
            }
            ActionState::Done => {
                crate::app::actions::transition(
                    store,
                    &admin,
                    id,
                    ActionStatus::InProgress,
                    Some(50),
                    "Lancée après les retours des usagers.",
                    today,
                )
                .await?;
                crate::app::actions::transition(
                    store,
                    &admin,
                    id,
                    ActionStatus::Done,
                    None,
                    "En place.",
                    // Done in the last complete month: its report says so.
                    today
                        .checked_sub_days(chrono::Days::new(u64::from(today.day())))
                        .unwrap_or(today),
                )
                .await?;
            }
        }
        let negative = feedback::Entity::find()
            .select_only()
            .column(feedback::Column::Id)
            .filter(feedback::Column::LocationId.eq(location_id))
            .filter(feedback::Column::Satisfaction.eq("NEGATIVE"))
            .filter(feedback::Column::Status.eq("PUBLISHED"))
            .order_by_desc(feedback::Column::SubmittedAt)
            .limit(demo.linked as u64)
            .into_tuple::<Uuid>()
            .all(store.connection())
            .await?;
        for experience in negative {
            crate::app::actions::link_feedback(store, &admin, id, experience, false).await?;
            work.linked_experiences += 1;
        }
        work.actions += 1;
        work.public_actions += usize::from(demo.public);
    }

    for (code, title, unit, direction, _, _) in MEASURED {
        crate::app::indicators::define(
            store,
            &admin,
            &Definition {
                code: (*code).to_owned(),
                title: (*title).to_owned(),
                unit: (*unit).to_owned(),
                direction: *direction,
                frequency: Frequency::Monthly,
                methodology: "Relevé mensuel du système de gestion de l'accueil.".to_owned(),
            },
        )
        .await?;
    }
    // Twelve months getting better, for the sites of the CAF du Rhône and of Lille.
    let measured_sites = ["CAF69-LYON-PARTDIEU", "CAF69-VILLEURBANNE", "CPAM59-LILLE"];
    for site in measured_sites {
        let location_id = id_of(site).await?;
        let mut period = current;
        for _ in 0..11 {
            period = period.previous();
        }
        for month in 0..11 {
            for (code, _, _, _, start, target) in MEASURED {
                let progress = f64::from(month) / 10.0;
                let value = start + (target - start) * progress * rng.random_range(0.7..1.1);
                crate::app::indicators::record_measurement(
                    store,
                    &admin,
                    &NewMeasurement {
                        indicator_code: (*code).to_owned(),
                        location_id,
                        period,
                        value: (value * 10.0).round() / 10.0,
                        sample_size: None,
                        target: Some(*target),
                    },
                )
                .await?;
                work.measurements += 1;
            }
            period = period.next();
        }
    }

    for (email, name, code) in [
        (
            "direction@caf69.demo.boucle.test",
            "Direction de la CAF du Rhône",
            "CAF69",
        ),
        (
            "accueil@cpam59.demo.boucle.test",
            "Accueil de la CPAM de Lille-Douai",
            "CPAM59",
        ),
    ] {
        crate::app::reports::subscribe(store, &admin, email, name, id_of(code).await?).await?;
        work.recipients += 1;
    }
    Ok(work)
}
