//! The enumerations of the domain, each with the text code it is stored under. Codes are
//! part of the schema: never rename one, add a new one.

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

pub(crate) use coded_enum;

coded_enum!(
    /// How an experience reached the administration.
    Channel {
        InPerson => "IN_PERSON",
        Phone => "PHONE",
        Online => "ONLINE",
        Email => "EMAIL",
        Mail => "MAIL",
        Video => "VIDEO",
        Other => "OTHER",
    }
);

coded_enum!(
    /// Who shares the experience.
    Audience {
        Usager => "USAGER",
        Professional => "PROFESSIONAL",
        Partner => "PARTNER",
        Volunteer => "VOLUNTEER",
        Donor => "DONOR",
        Patient => "PATIENT",
        Agent => "AGENT",
    }
);

impl Audience {
    /// Whether this public's experiences are published and make the public figures: every
    /// public an organisation serves, never its own agents, whose barometer is internal
    /// (an agent rating his own service is not a usager's experience of it).
    pub const fn is_public(self) -> bool {
        !matches!(self, Audience::Agent)
    }

    /// The codes of the publics [`Audience::is_public`] keeps.
    pub fn public_codes() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|a| a.is_public())
            .map(|a| a.code())
            .collect()
    }
}

coded_enum!(
    /// The SP+ « ressenti ».
    Satisfaction {
        Negative => "NEGATIVE",
        Neutral => "NEUTRAL",
        Positive => "POSITIVE",
    }
);

coded_enum!(
    /// The five general tags of Services Publics +.
    Tag {
        Accessibility => "ACCESSIBILITY",
        Information => "INFORMATION",
        Relation => "RELATION",
        Reactivity => "REACTIVITY",
        Simplicity => "SIMPLICITY",
    }
);

coded_enum!(
    ModerationStatus {
        Pending => "PENDING",
        Published => "PUBLISHED",
        Rejected => "REJECTED",
    }
);

coded_enum!(
    RejectReason {
        Abusive => "ABUSIVE",
        PersonalData => "PERSONAL_DATA",
        OutOfScope => "OUT_OF_SCOPE",
        Spam => "SPAM",
        Duplicate => "DUPLICATE",
    }
);

impl RejectReason {
    /// Whether an experience rejected for this reason still counts in the indicators: an
    /// abusive text (or one full of personal data) still carries a real rating, while
    /// out-of-scope, spam and duplicate experiences do not describe the service.
    pub fn still_counted(self) -> bool {
        match self {
            RejectReason::Abusive | RejectReason::PersonalData => true,
            RejectReason::OutOfScope | RejectReason::Spam | RejectReason::Duplicate => false,
        }
    }
}

coded_enum!(
    /// Kinds of personal data detected in free texts.
    PersonalDataKind {
        Email => "EMAIL",
        Phone => "PHONE",
        Nir => "NIR",
        Iban => "IBAN",
        Card => "CARD",
        PostalAddress => "POSTAL_ADDRESS",
    }
);

coded_enum!(
    /// How an indicator's figures come to be: computed by boucle from the experiences, or
    /// reported by the administration.
    IndicatorKind {
        Computed => "COMPUTED",
        Reported => "REPORTED",
    }
);

coded_enum!(
    /// Which way an indicator improves.
    Direction {
        HigherIsBetter => "HIGHER_IS_BETTER",
        LowerIsBetter => "LOWER_IS_BETTER",
        Neutral => "NEUTRAL",
    }
);

coded_enum!(
    /// How often an indicator is measured.
    Frequency {
        Monthly => "MONTHLY",
        Quarterly => "QUARTERLY",
        Yearly => "YEARLY",
    }
);

coded_enum!(
    /// Status of a public answer.
    ResponseStatus {
        Draft => "DRAFT",
        Published => "PUBLISHED",
    }
);

coded_enum!(
    /// Where a report version stands for a recipient: PENDING is committed before the
    /// message leaves, SENT once the relay or the outbox has it.
    DeliveryStatus {
        Pending => "PENDING",
        Sent => "SENT",
    }
);

coded_enum!(
    /// What a PDF report covers.
    ReportKind {
        /// One location: its figures on its whole subtree.
        Location => "LOCATION",
        /// A network or subtree summary ranking its children.
        Summary => "SUMMARY",
    }
);

coded_enum!(
    /// Status of an improvement action.
    ActionStatus {
        Planned => "PLANNED",
        InProgress => "IN_PROGRESS",
        Done => "DONE",
        Abandoned => "ABANDONED",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(*c));
        }
        for r in RejectReason::ALL {
            assert_eq!(RejectReason::from_code(r.code()), Some(*r));
        }
        for k in PersonalDataKind::ALL {
            assert_eq!(PersonalDataKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(Tag::from_code("nope"), None);
    }

    #[test]
    fn only_out_of_scope_spam_and_duplicates_leave_the_indicators() {
        let excluded: Vec<_> = RejectReason::ALL
            .iter()
            .filter(|r| !r.still_counted())
            .collect();
        assert_eq!(
            excluded,
            [
                &RejectReason::OutOfScope,
                &RejectReason::Spam,
                &RejectReason::Duplicate
            ]
        );
    }
}
