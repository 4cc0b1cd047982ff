//! The benchmark data generator: deterministic (a seed gives the same data on every machine)
//! with the shapes of real traffic — a 4-level hierarchy whose site sizes follow a Zipf law
//! (a few large préfectures, a long tail of small agencies), volume that follows the week and
//! the working day, a realistic mix of channels, scores and moderation outcomes, and a share
//! of texts carrying personal data (which the server must redact).

use boucle::demo::{
    NEGATIVE, NEUTRAL, POSITIVE, PROCEDURES, PROPOSALS, PSEUDONYMS, WITH_PERSONAL_DATA,
};
use boucle::domain::codes::ResponseStatus;
use boucle::domain::feedback::NewFeedback;
use boucle::domain::{
    Audience, Channel, ModerationStatus, PersonalDataKind, RejectReason, Satisfaction, Tag,
};
use boucle::pb;
use boucle::store::feedback::{Answer, Experience, StoredExperience};
use boucle::store::locations::Location;
use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Share of experiences whose story carries personal data.
pub const PERSONAL_DATA_SHARE: f64 = 0.05;

/// A generated hierarchy: every location, parents first, and the leaves (sites) with the
/// cumulative weights that draw which site an experience is about.
pub struct Hierarchy {
    pub locations: Vec<Location>,
    pub sites: Vec<(Uuid, String)>,
    cumulative: Vec<f64>,
}

impl Hierarchy {
    /// `total` locations (at least 1,000) on 4 levels: networks, regions (12 per network),
    /// departments (10 per region), then sites.
    pub fn new(total: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let networks = (total / 2_500).max(1);
        let regions = networks * 12;
        let departments = regions * 10;
        let sites = total
            .saturating_sub(networks + regions + departments)
            .max(departments);
        let mut locations = Vec::with_capacity(total);
        let mut id_of_rank = 0u128;
        let mut make = |code: String, parent: Option<Uuid>, typology: &str, rng: &mut StdRng| {
            id_of_rank += 1;
            // Deterministic ids: the same seed gives the same rows.
            let id = Uuid::from_u128((u128::from(seed) << 64) | id_of_rank);
            Location {
                id,
                name: format!("{typology} {code}"),
                code,
                typology: typology.to_owned(),
                parent_id: parent,
                postal_code: format!("{:05}", rng.random_range(1_000..96_000)),
                city: "Commune".to_owned(),
                latitude: Some(rng.random_range(42.5..51.0)),
                longitude: Some(rng.random_range(-4.5..8.0)),
                response_target_days: parent.is_none().then_some(15),
                min_sample: parent.is_none().then_some(10),
                min_sample_agents: None,
                active: true,
                created_at: 0,
                updated_at: 0,
            }
        };
        let mut level: Vec<Uuid> = Vec::new();
        for n in 0..networks {
            let m = make(format!("N{n:02}"), None, "Réseau", &mut rng);
            level.push(m.id);
            locations.push(m);
        }
        for (fanout, prefix, typology) in [
            (12, "R", "Direction régionale"),
            (10, "D", "Direction départementale"),
        ] {
            let mut next = Vec::new();
            for (p, parent) in level.iter().enumerate() {
                for k in 0..fanout {
                    let m = make(
                        format!("{prefix}{p:04}-{k:02}"),
                        Some(*parent),
                        typology,
                        &mut rng,
                    );
                    next.push(m.id);
                    locations.push(m);
                }
            }
            level = next;
        }
        let mut site_list = Vec::with_capacity(sites);
        for s in 0..sites {
            let parent = level[s % level.len()];
            let m = make(format!("S{s:06}"), Some(parent), "Accueil", &mut rng);
            site_list.push((m.id, m.code.clone()));
            locations.push(m);
        }
        // Zipf sizes (exponent 0.8) over a shuffled ranking: size is not tied to the code.
        let mut ranks: Vec<usize> = (1..=sites).collect();
        for i in (1..ranks.len()).rev() {
            let j = rng.random_range(0..=i);
            ranks.swap(i, j);
        }
        let mut cumulative = Vec::with_capacity(sites);
        let mut sum = 0.0;
        for rank in ranks {
            sum += (rank as f64).powf(-0.8);
            cumulative.push(sum);
        }
        Self {
            locations,
            sites: site_list,
            cumulative,
        }
    }

    /// Draws a site, large ones more often.
    pub fn site(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.sites.len() - 1)
    }
}

/// A template of experience, with its redacted texts computed once.
struct Template {
    satisfaction: Satisfaction,
    title: &'static str,
    story: String,
    tags: Vec<Tag>,
    redacted_story: String,
    personal_data: Vec<PersonalDataKind>,
}

/// The texts experiences are drawn from.
pub struct Texts {
    templates: Vec<Template>,
    with_personal_data: Vec<Template>,
}

impl Texts {
    pub fn new() -> Self {
        let mut templates = Vec::new();
        let mut with_personal_data = Vec::new();
        for (satisfaction, pool) in [
            (Satisfaction::Positive, POSITIVE),
            (Satisfaction::Neutral, NEUTRAL),
            (Satisfaction::Negative, NEGATIVE),
        ] {
            for (title, story, tags) in pool {
                templates.push(template(satisfaction, title, story.to_string(), tags));
                for extra in WITH_PERSONAL_DATA {
                    with_personal_data.push(template(
                        satisfaction,
                        title,
                        format!("{story} {extra}"),
                        tags,
                    ));
                }
            }
        }
        Self {
            templates,
            with_personal_data,
        }
    }

    fn pick(&self, rng: &mut StdRng) -> &Template {
        // 55 % positive, 25 % neutral, 20 % negative, then a template of that kind.
        let wanted = match rng.random::<f64>() {
            x if x < 0.55 => Satisfaction::Positive,
            x if x < 0.80 => Satisfaction::Neutral,
            _ => Satisfaction::Negative,
        };
        let pool = if rng.random::<f64>() < PERSONAL_DATA_SHARE {
            &self.with_personal_data
        } else {
            &self.templates
        };
        let of_kind: Vec<&Template> = pool.iter().filter(|t| t.satisfaction == wanted).collect();
        of_kind[rng.random_range(0..of_kind.len())]
    }
}

impl Default for Texts {
    fn default() -> Self {
        Self::new()
    }
}

fn template(
    satisfaction: Satisfaction,
    title: &'static str,
    story: String,
    tags: &[Tag],
) -> Template {
    let redacted = boucle::domain::redaction::redact(&story);
    Template {
        satisfaction,
        title,
        redacted_story: redacted.text,
        personal_data: redacted.kinds.iter().copied().collect(),
        story,
        tags: tags.to_vec(),
    }
}

fn channel(rng: &mut StdRng) -> Channel {
    match rng.random::<f64>() {
        x if x < 0.45 => Channel::InPerson,
        x if x < 0.70 => Channel::Online,
        x if x < 0.88 => Channel::Phone,
        x if x < 0.95 => Channel::Email,
        x if x < 0.98 => Channel::Mail,
        _ => Channel::Video,
    }
}

fn nps(rng: &mut StdRng, satisfaction: Satisfaction) -> Option<u8> {
    if rng.random::<f64>() < 0.3 {
        return None;
    }
    Some(match satisfaction {
        Satisfaction::Positive => rng.random_range(7..=10),
        Satisfaction::Neutral => rng.random_range(4..=8),
        Satisfaction::Negative => rng.random_range(0..=5),
    })
}

fn effort(rng: &mut StdRng, satisfaction: Satisfaction) -> Option<u8> {
    if rng.random::<f64>() < 0.4 {
        return None;
    }
    Some(match satisfaction {
        Satisfaction::Positive => rng.random_range(4..=7),
        Satisfaction::Neutral => rng.random_range(3..=6),
        Satisfaction::Negative => rng.random_range(1..=4),
    })
}

/// An instant of the month `[start, end)` drawn with the shape of real traffic: working days
/// carry most of the volume, Saturdays a little, Sundays almost none; office hours dominate.
pub fn instant(rng: &mut StdRng, (start, end): (i64, i64), tz: Tz) -> i64 {
    loop {
        let at = rng.random_range(start..end);
        let Some(local) = tz.timestamp_millis_opt(at).single() else {
            continue;
        };
        let day = match local.weekday().num_days_from_monday() {
            0..=4 => 1.0,
            5 => 0.3,
            _ => 0.05,
        };
        let hour = match local.hour() {
            8..=17 => 1.0,
            7 | 18..=20 => 0.35,
            _ => 0.04,
        };
        if rng.random::<f64>() < day * hour {
            return at;
        }
    }
}

/// Days until the first answer: most within a week, a long tail.
fn answer_delay_ms(rng: &mut StdRng) -> i64 {
    let days = -(1.0 - rng.random::<f64>()).ln() * 6.0;
    (days * 86_400_000.0) as i64 + 3_600_000
}

/// What stored experiences are drawn from.
pub struct Rows<'a> {
    pub texts: &'a Texts,
    pub hierarchy: &'a Hierarchy,
    /// `[start, end)` of the month, epoch ms.
    pub month: (i64, i64),
    pub tz: Tz,
    pub api_key_id: Uuid,
    pub seed: u64,
}

impl Rows<'_> {
    /// One stored experience (and its published answer, for some), as the capture path
    /// would have written it: generated straight into rows for bulk loads.
    pub fn stored(&self, rng: &mut StdRng, serial: u64) -> (StoredExperience, Option<Answer>) {
        stored(rng, self, serial)
    }
}

/// Who speaks, as in the demo: 88 % usagers, 2 % each of the six other publics, agents
/// included. Drawn from the serial, not the generator, so that every other field of a seed's
/// rows stays what it was before audiences were varied.
fn audience_of(serial: u64) -> Audience {
    const OTHERS: [Audience; 6] = [
        Audience::Professional,
        Audience::Partner,
        Audience::Volunteer,
        Audience::Donor,
        Audience::Patient,
        Audience::Agent,
    ];
    let draw = (serial.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 100;
    match usize::try_from(draw).unwrap_or(0).checked_sub(88) {
        None => Audience::Usager,
        Some(n) => OTHERS[n / 2],
    }
}

fn stored(rng: &mut StdRng, rows: &Rows<'_>, serial: u64) -> (StoredExperience, Option<Answer>) {
    let Rows {
        texts,
        hierarchy,
        month,
        tz,
        api_key_id,
        seed,
    } = *rows;
    let site = hierarchy.site(rng);
    let t = texts.pick(rng);
    let at = instant(rng, month, tz);
    let (status, reject_reason) = match rng.random::<f64>() {
        x if x < 0.82 => (ModerationStatus::Published, None),
        x if x < 0.90 => (ModerationStatus::Pending, None),
        x if x < 0.94 => (ModerationStatus::Rejected, Some(RejectReason::PersonalData)),
        x if x < 0.97 => (ModerationStatus::Rejected, Some(RejectReason::OutOfScope)),
        _ => (ModerationStatus::Rejected, Some(RejectReason::Spam)),
    };
    let id = Uuid::from_u64_pair(seed ^ 0x0b0c1e, serial);
    let proposal = PROPOSALS[rng.random_range(0..PROPOSALS.len())];
    // Fields in the order the generator has always drawn them: a seed gives the same rows.
    let mut experience = Experience {
        id,
        location_id: hierarchy.sites[site].0,
        channel: channel(rng),
        audience: audience_of(serial),
        satisfaction: t.satisfaction,
        nps: nps(rng, t.satisfaction),
        effort: effort(rng, t.satisfaction),
        title: t.title.to_owned(),
        story: t.story.clone(),
        proposal: proposal.to_owned(),
        redacted_title: t.title.to_owned(),
        redacted_story: t.redacted_story.clone(),
        redacted_proposal: proposal.to_owned(),
        personal_data: t.personal_data.clone(),
        procedure: PROCEDURES[rng.random_range(0..PROCEDURES.len())].to_owned(),
        occurred_on: None,
        pseudonym: PSEUDONYMS[rng.random_range(0..PSEUDONYMS.len())].to_owned(),
        contact_email: None,
        contact_erased_at: None,
        status,
        reject_reason,
        request_id: None,
        submitted_at: at,
        updated_at: at,
        first_answered_at: None,
    };
    // 45 % of published experiences get a published answer from their site.
    let answer = (status == ModerationStatus::Published && rng.random::<f64>() < 0.45).then(|| {
        let published = at + answer_delay_ms(rng);
        Answer {
            id: Uuid::from_u64_pair(seed ^ 0xa45e, serial),
            feedback_id: id,
            location_id: hierarchy.sites[site].0,
            author: "Équipe d'accueil".to_owned(),
            body: "Merci pour votre retour, nous en tenons compte.".to_owned(),
            status: ResponseStatus::Published,
            created_at: published,
            updated_at: published,
            published_at: Some(published),
        }
    });
    // What `publish_answer` records on the experience.
    if let Some(answer) = &answer {
        experience.first_answered_at = answer.published_at;
    }
    let row = StoredExperience {
        experience,
        api_key_id,
        payload_hash: format!("{:064x}", serial),
    };
    (row, answer)
}

/// One SubmitFeedback request, as a kiosk or web form would send it.
pub fn request(
    rng: &mut StdRng,
    texts: &Texts,
    site_code: &str,
    request_id: String,
) -> pb::SubmitFeedbackRequest {
    let t = texts.pick(rng);
    let channel = channel(rng);
    let feedback = NewFeedback {
        location: boucle::domain::feedback::LocationRef::Code(site_code.to_owned()),
        channel,
        audience: Audience::Usager,
        satisfaction: t.satisfaction,
        nps: nps(rng, t.satisfaction),
        effort: effort(rng, t.satisfaction),
        title: t.title.to_owned(),
        story: t.story.clone(),
        proposal: PROPOSALS[rng.random_range(0..PROPOSALS.len())].to_owned(),
        procedure: PROCEDURES[rng.random_range(0..PROCEDURES.len())].to_owned(),
        tags: t.tags.iter().copied().collect(),
        labels: Default::default(),
        occurred_on: None,
        pseudonym: PSEUDONYMS[rng.random_range(0..PSEUDONYMS.len())].to_owned(),
        contact_email: (rng.random::<f64>() < 0.2).then(|| "usager@example.org".to_owned()),
        submitted_at: None,
    };
    pb::SubmitFeedbackRequest {
        feedback: Some(to_pb(&feedback, site_code)),
        request_id,
    }
}

fn to_pb(f: &NewFeedback, site_code: &str) -> pb::Feedback {
    use boucle::pb::convert::{audience_to_pb, channel_to_pb, satisfaction_to_pb, tag_to_pb};
    pb::Feedback {
        location_code: site_code.to_owned(),
        channel: channel_to_pb(f.channel).into(),
        audience: audience_to_pb(f.audience).into(),
        satisfaction: satisfaction_to_pb(f.satisfaction).into(),
        nps: f.nps.map(u32::from),
        effort: f.effort.map(u32::from),
        title: f.title.clone(),
        story: f.story.clone(),
        proposal: f.proposal.clone(),
        procedure: f.procedure.clone(),
        tags: f.tags.iter().map(|t| tag_to_pb(*t).into()).collect(),
        pseudonym: f.pseudonym.clone(),
        contact_email: f.contact_email.clone().unwrap_or_default(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let a = Hierarchy::new(1_500, 7);
        let b = Hierarchy::new(1_500, 7);
        assert_eq!(a.locations, b.locations);
        let texts = Texts::new();
        let month = (1_760_000_000_000, 1_762_600_000_000);
        let rows = |h| Rows {
            texts: &texts,
            hierarchy: h,
            month,
            tz: chrono_tz::Europe::Paris,
            api_key_id: Uuid::nil(),
            seed: 7,
        };
        let (ra, rb) = (rows(&a), rows(&b));
        let mut r1 = StdRng::seed_from_u64(1);
        let mut r2 = StdRng::seed_from_u64(1);
        for serial in 0..100 {
            let x = ra.stored(&mut r1, serial);
            let y = rb.stored(&mut r2, serial);
            assert_eq!(format!("{x:?}"), format!("{y:?}"));
        }
    }

    #[test]
    fn sizes_are_skewed_and_every_level_is_there() {
        let h = Hierarchy::new(20_000, 1);
        assert_eq!(h.locations.len(), 20_000);
        let mut rng = StdRng::seed_from_u64(3);
        let mut hits = vec![0u32; h.sites.len()];
        for _ in 0..200_000 {
            hits[h.site(&mut rng)] += 1;
        }
        hits.sort_unstable();
        let top: u32 = hits.iter().rev().take(h.sites.len() / 100).sum();
        // The largest 1 % of sites receive far more than 1 % of the experiences.
        assert!(f64::from(top) > 0.10 * 200_000.0, "top 1% got {top}");
    }

    #[test]
    fn a_share_of_texts_carries_personal_data() {
        let texts = Texts::new();
        let mut rng = StdRng::seed_from_u64(5);
        let n = 20_000;
        let with = (0..n)
            .filter(|_| !texts.pick(&mut rng).personal_data.is_empty())
            .count();
        let share = with as f64 / n as f64;
        assert!((0.03..0.07).contains(&share), "share {share}");
    }
}
