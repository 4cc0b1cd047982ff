//! The French words of boucle's coded values, as the public reads them: in reports, mails and
//! open data. One home, so that a PDF and a dataset never name the same thing twice.

use super::codes::{Audience, Channel, Frequency, Satisfaction, Tag};
use super::indicators::Scope;

/// A channel as the report's channel section and the open data name it.
pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::InPerson => "Au guichet",
        Channel::Phone => "Téléphone",
        Channel::Online => "En ligne",
        Channel::Email => "Courriel",
        Channel::Mail => "Courrier",
        Channel::Video => "Visio",
        Channel::Other => "Autre",
    }
}

/// The SP+ « ressenti », lower case as it reads inside a sentence and in the open data.
pub fn satisfaction(s: Satisfaction) -> &'static str {
    match s {
        Satisfaction::Positive => "positif",
        Satisfaction::Neutral => "neutre",
        Satisfaction::Negative => "négatif",
    }
}

/// The five general tags of Services Publics +.
pub fn tag(t: Tag) -> &'static str {
    match t {
        Tag::Accessibility => "Accessibilité",
        Tag::Information => "Information / explication",
        Tag::Relation => "Relation",
        Tag::Reactivity => "Réactivité",
        Tag::Simplicity => "Simplicité",
    }
}

pub fn frequency(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "mensuelle",
        Frequency::Quarterly => "trimestrielle",
        Frequency::Yearly => "annuelle",
    }
}

/// Who speaks.
pub fn audience(a: Audience) -> &'static str {
    match a {
        Audience::Usager => "usager",
        Audience::Professional => "professionnel",
        Audience::Partner => "partenaire",
        Audience::Volunteer => "bénévole",
        Audience::Donor => "donateur",
        Audience::Patient => "patient",
        Audience::Agent => "agent",
    }
}

/// Whose experiences a published figure counts: the headline counts every public served
/// (never the agents, whose figures are never published); otherwise one public.
pub fn public(a: Option<Audience>) -> &'static str {
    match a {
        None => "ensemble des publics",
        Some(a) => audience(a),
    }
}

/// Which experiences a figure describes, as an open-data row says it.
pub fn perimeter(s: Scope) -> &'static str {
    match s {
        Scope::SelfOnly => "structure",
        Scope::Subtree => "structure et rattachées",
    }
}

/// An indicator's unit as the public reads it (the catalogue writes `count` for counts).
pub fn unit(unit: &str) -> &str {
    match unit {
        "count" => "nombre",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_own_word() {
        let mut words = std::collections::HashSet::new();
        for c in Channel::ALL {
            assert!(words.insert(channel(*c)), "{c:?}");
        }
        for t in Tag::ALL {
            assert!(words.insert(tag(*t)), "{t:?}");
        }
        assert_ne!(perimeter(Scope::SelfOnly), perimeter(Scope::Subtree));
        assert_eq!(unit("count"), "nombre");
        assert_eq!(unit("%"), "%");
    }
}
