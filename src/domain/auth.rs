//! Who may do what. Roles grant permissions; a key's scope (a location subtree, or
//! everything) limits where. Scope membership needs the hierarchy, so it is checked by the
//! store (`store::locations::in_scope`, `store::Reach`); this module holds the role rules.

use uuid::Uuid;

use super::codes::coded_enum;

coded_enum!(
    /// Role of an API key.
    Role {
        Collector => "COLLECTOR",
        Agent => "AGENT",
        Validator => "VALIDATOR",
        Moderator => "MODERATOR",
        Admin => "ADMIN",
    }
);

/// Everything an RPC may need to be allowed to do. Each RPC asks for exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read locations of the scope (every role: collectors need them to submit).
    ReadLocations,
    /// Create, update, import locations.
    ManageLocations,
    /// SubmitFeedback, ImportFeedback.
    SubmitFeedback,
    /// GetFeedback, ListFeedback (internal view with raw texts and contact e-mails),
    /// ListFeedbackHistory.
    ReadFeedback,
    /// ModerateFeedback.
    Moderate,
    /// ReassignFeedback, AddComment, ListComments, DraftResponse.
    WorkOnFeedback,
    /// PublishResponse.
    PublishResponse,
    /// EraseContact.
    EraseContact,
    /// Actions and measurements.
    ManageActions,
    /// ListIndicators, ListEngagements: reference data, every role.
    ReadIndicators,
    /// UpdateEngagement.
    EditReferenceData,
    /// DefineIndicator.
    DefineIndicators,
    /// RecordMeasurement, ListMeasurements.
    RecordMeasurements,
    /// GetInternalResults: every public's figures, the agents' barometer included.
    ReadInternalResults,
    /// CreateApiKey, ListApiKeys, RevokeApiKey.
    ManageKeys,
    /// CreateRecipient, ListRecipients, DeleteRecipient.
    ManageRecipients,
}

impl Permission {
    /// Every permission (a test checks the list against the enum).
    pub const ALL: &'static [Permission] = &[
        Permission::ReadLocations,
        Permission::ManageLocations,
        Permission::SubmitFeedback,
        Permission::ReadFeedback,
        Permission::Moderate,
        Permission::WorkOnFeedback,
        Permission::PublishResponse,
        Permission::EraseContact,
        Permission::ManageActions,
        Permission::ReadIndicators,
        Permission::EditReferenceData,
        Permission::DefineIndicators,
        Permission::RecordMeasurements,
        Permission::ReadInternalResults,
        Permission::ManageKeys,
        Permission::ManageRecipients,
    ];

    /// Whether the permission changes reference data shared by every network (the SP+
    /// engagements, the indicator catalogue): a key scoped to a subtree never holds it, or
    /// one site's administrator would rewrite what every network publishes. Exhaustive: a
    /// new permission does not compile until it is placed here.
    pub fn is_global(self) -> bool {
        use Permission as P;
        match self {
            P::EditReferenceData | P::DefineIndicators => true,
            P::ReadLocations
            | P::ManageLocations
            | P::SubmitFeedback
            | P::ReadFeedback
            | P::Moderate
            | P::WorkOnFeedback
            | P::PublishResponse
            | P::EraseContact
            | P::ManageActions
            | P::ReadIndicators
            | P::RecordMeasurements
            | P::ReadInternalResults
            | P::ManageKeys
            | P::ManageRecipients => false,
        }
    }
}

impl Role {
    /// The single table of role rights (docs/product.md, Security). Exhaustive in both
    /// directions: every role lists every permission, with no wildcard, so a new role or a new
    /// permission does not compile until each cell is decided here.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Admin => match permission {
                P::ReadLocations
                | P::ManageLocations
                | P::SubmitFeedback
                | P::ReadFeedback
                | P::Moderate
                | P::WorkOnFeedback
                | P::PublishResponse
                | P::EraseContact
                | P::ManageActions
                | P::ReadIndicators
                | P::EditReferenceData
                | P::DefineIndicators
                | P::RecordMeasurements
                | P::ReadInternalResults
                | P::ManageKeys
                | P::ManageRecipients => true,
            },
            Role::Collector => match permission {
                P::ReadLocations | P::SubmitFeedback | P::ReadIndicators => true,
                P::ManageLocations
                | P::ReadFeedback
                | P::Moderate
                | P::WorkOnFeedback
                | P::PublishResponse
                | P::EraseContact
                | P::ManageActions
                | P::EditReferenceData
                | P::DefineIndicators
                | P::RecordMeasurements
                | P::ReadInternalResults
                | P::ManageKeys
                | P::ManageRecipients => false,
            },
            Role::Moderator => match permission {
                P::ReadLocations | P::ReadFeedback | P::Moderate | P::ReadIndicators => true,
                P::ManageLocations
                | P::SubmitFeedback
                | P::WorkOnFeedback
                | P::PublishResponse
                | P::EraseContact
                | P::ManageActions
                | P::EditReferenceData
                | P::DefineIndicators
                | P::RecordMeasurements
                | P::ReadInternalResults
                | P::ManageKeys
                | P::ManageRecipients => false,
            },
            Role::Agent | Role::Validator => match permission {
                P::ReadLocations
                | P::ReadFeedback
                | P::WorkOnFeedback
                | P::ManageActions
                | P::ReadIndicators
                | P::RecordMeasurements
                | P::ReadInternalResults => true,
                P::PublishResponse => self == Role::Validator,
                P::ManageLocations
                | P::SubmitFeedback
                | P::Moderate
                | P::EraseContact
                | P::DefineIndicators
                | P::EditReferenceData
                | P::ManageKeys
                | P::ManageRecipients => false,
            },
        }
    }
}

/// The authenticated caller of an RPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub key_id: Uuid,
    /// The key's name, used as the author of comments and timeline events.
    pub name: String,
    pub role: Role,
    /// Root of the subtree the key may see; `None` means everything.
    pub scope: Option<Uuid>,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> crate::Result<()> {
        if !self.role.allows(permission) {
            Err(crate::Error::PermissionDenied(format!(
                "role {} may not {permission:?}",
                self.role
            )))
        } else if permission.is_global() && self.scope.is_some() {
            Err(crate::Error::PermissionDenied(format!(
                "{permission:?} changes reference data shared by every network: only an \
                 unscoped {} key may",
                Role::Admin
            )))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_all_lists_every_permission_once() {
        // Exhaustive: a new permission does not compile here until it has a place in ALL.
        let position = |p: Permission| match p {
            Permission::ReadLocations => 0,
            Permission::ManageLocations => 1,
            Permission::SubmitFeedback => 2,
            Permission::ReadFeedback => 3,
            Permission::Moderate => 4,
            Permission::WorkOnFeedback => 5,
            Permission::PublishResponse => 6,
            Permission::EraseContact => 7,
            Permission::ManageActions => 8,
            Permission::ReadIndicators => 9,
            Permission::EditReferenceData => 10,
            Permission::DefineIndicators => 11,
            Permission::RecordMeasurements => 12,
            Permission::ReadInternalResults => 13,
            Permission::ManageKeys => 14,
            Permission::ManageRecipients => 15,
        };
        for (i, p) in Permission::ALL.iter().enumerate() {
            assert_eq!(position(*p), i, "{p:?}");
        }
        assert_eq!(Permission::ALL.len(), 16);
    }

    #[test]
    fn a_scoped_admin_cannot_change_global_reference_data() {
        let caller = |scope: Option<Uuid>| Caller {
            key_id: Uuid::nil(),
            name: "admin".into(),
            role: Role::Admin,
            scope,
        };
        let site = Some(Uuid::from_u128(7));
        for permission in [Permission::EditReferenceData, Permission::DefineIndicators] {
            assert!(matches!(
                caller(site).require(permission),
                Err(crate::Error::PermissionDenied(_))
            ));
            assert!(caller(None).require(permission).is_ok());
        }
        // What a subtree owns stays its administrator's.
        assert!(caller(site).require(Permission::ManageLocations).is_ok());
        assert!(caller(site).require(Permission::ManageKeys).is_ok());
    }

    #[test]
    fn only_validators_and_admins_publish_answers() {
        let publishers: Vec<_> = Role::ALL
            .iter()
            .filter(|r| r.allows(Permission::PublishResponse))
            .collect();
        assert_eq!(publishers, [&Role::Validator, &Role::Admin]);
    }

    #[test]
    fn collectors_only_submit_and_read_reference_data() {
        assert!(Role::Collector.allows(Permission::SubmitFeedback));
        assert!(!Role::Collector.allows(Permission::ReadFeedback));
        assert!(!Role::Collector.allows(Permission::ManageKeys));
    }

    #[test]
    fn agents_cannot_submit_moderate_or_manage_keys() {
        for p in [
            Permission::SubmitFeedback,
            Permission::Moderate,
            Permission::ManageKeys,
            Permission::ManageLocations,
        ] {
            assert!(!Role::Agent.allows(p), "{p:?}");
        }
    }
}
