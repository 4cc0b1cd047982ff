//! Who may call each RPC: one table, applied by one layer before any handler runs.
//!
//! [`RULES`] gives every method of the API its access: public, or an API key whose role
//! holds one [`Permission`]. The layer authenticates the key, checks the permission (roles
//! and global permissions: `domain::auth`) and hands the [`Caller`] to the handler in the
//! request's extensions; a handler cannot get a caller any other way ([`caller`]). A method
//! missing from the table is refused, and the tests check the table against the API's
//! descriptors in both directions: every method has exactly one rule, every rule names a
//! method, and every permission is asked by some method.

use std::sync::Arc;
use std::task::{Context, Poll};

use boucle::Error;
use boucle::domain::{Caller, Permission};
use futures::future::BoxFuture;

use crate::auth::Authenticator;
use crate::calls::CallRecord;

/// How an RPC may be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Without credentials: published data only (ResultsService).
    Public,
    /// With an API key whose role allows the permission.
    Key(Permission),
}

use Access::{Key, Public};
use Permission as P;

/// (service, method, access) for every RPC of `boucle.v1`.
pub const RULES: &[(&str, &str, Access)] = &[
    ("LocationService", "CreateLocation", Key(P::ManageLocations)),
    ("LocationService", "GetLocation", Key(P::ReadLocations)),
    ("LocationService", "ListLocations", Key(P::ReadLocations)),
    ("LocationService", "UpdateLocation", Key(P::ManageLocations)),
    (
        "LocationService",
        "ImportLocations",
        Key(P::ManageLocations),
    ),
    ("FeedbackService", "SubmitFeedback", Key(P::SubmitFeedback)),
    ("FeedbackService", "ImportFeedback", Key(P::SubmitFeedback)),
    ("FeedbackService", "GetFeedback", Key(P::ReadFeedback)),
    ("FeedbackService", "ListFeedback", Key(P::ReadFeedback)),
    (
        "FeedbackService",
        "ListFeedbackHistory",
        Key(P::ReadFeedback),
    ),
    ("FeedbackService", "ModerateFeedback", Key(P::Moderate)),
    (
        "FeedbackService",
        "ReassignFeedback",
        Key(P::WorkOnFeedback),
    ),
    ("FeedbackService", "AddComment", Key(P::WorkOnFeedback)),
    ("FeedbackService", "ListComments", Key(P::WorkOnFeedback)),
    ("FeedbackService", "DraftResponse", Key(P::WorkOnFeedback)),
    (
        "FeedbackService",
        "PublishResponse",
        Key(P::PublishResponse),
    ),
    ("FeedbackService", "EraseContact", Key(P::EraseContact)),
    ("ActionService", "CreateAction", Key(P::ManageActions)),
    ("ActionService", "GetAction", Key(P::ManageActions)),
    ("ActionService", "ListActions", Key(P::ManageActions)),
    ("ActionService", "UpdateAction", Key(P::ManageActions)),
    ("ActionService", "TransitionAction", Key(P::ManageActions)),
    ("ActionService", "LinkFeedback", Key(P::ManageActions)),
    ("ActionService", "ListActionEvents", Key(P::ManageActions)),
    ("ActionService", "ListEngagements", Key(P::ReadIndicators)),
    (
        "ActionService",
        "UpdateEngagement",
        Key(P::EditReferenceData),
    ),
    ("IndicatorService", "ListIndicators", Key(P::ReadIndicators)),
    (
        "IndicatorService",
        "DefineIndicator",
        Key(P::DefineIndicators),
    ),
    (
        "IndicatorService",
        "RecordMeasurement",
        Key(P::RecordMeasurements),
    ),
    (
        "IndicatorService",
        "ListMeasurements",
        Key(P::RecordMeasurements),
    ),
    (
        "IndicatorService",
        "GetInternalResults",
        Key(P::ReadInternalResults),
    ),
    ("AdminService", "CreateApiKey", Key(P::ManageKeys)),
    ("AdminService", "ListApiKeys", Key(P::ManageKeys)),
    ("AdminService", "RevokeApiKey", Key(P::ManageKeys)),
    ("AdminService", "CreateRecipient", Key(P::ManageRecipients)),
    ("AdminService", "ListRecipients", Key(P::ManageRecipients)),
    ("AdminService", "DeleteRecipient", Key(P::ManageRecipients)),
    ("ResultsService", "GetLocationResults", Public),
    ("ResultsService", "ListPublishedFeedback", Public),
    ("ResultsService", "VoteResponseUseful", Public),
    ("ResultsService", "ListPublicActions", Public),
    ("ResultsService", "ListReports", Public),
    ("ResultsService", "GetReport", Public),
    ("ResultsService", "SearchLocations", Public),
    ("ResultsService", "CompareChildren", Public),
    ("ResultsService", "ListOpenDataFiles", Public),
    ("ResultsService", "GetOpenDataFile", Public),
];

/// The package every rule's service belongs to.
const PACKAGE: &str = "boucle.v1";

/// The rule of a request path (`/boucle.v1.Service/Method`); `None` for a path of the API
/// without one, and for paths outside the API (health, reflection).
pub fn rule(path: &str) -> Option<Option<Access>> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let service = service.strip_prefix(PACKAGE)?.strip_prefix('.')?;
    Some(
        RULES
            .iter()
            .find(|(s, m, _)| *s == service && *m == method)
            .map(|(_, _, access)| *access),
    )
}

/// The caller the access layer authenticated for this request. An RPC whose rule is
/// [`Access::Public`] has none, and asking for it is a bug (INTERNAL).
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, Error> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Error::Internal("no authenticated caller for a keyed RPC".into()))
}

/// Applies [`RULES`] to every call (see the module's documentation).
#[derive(Clone)]
pub struct AccessLayer {
    auth: Arc<Authenticator>,
}

impl AccessLayer {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { auth }
    }
}

impl<S> tower::Layer<S> for AccessLayer {
    type Service = AccessControl<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessControl {
            inner,
            auth: self.auth.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AccessControl<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for AccessControl<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let permission = match rule(request.uri().path()) {
            // Outside the API (health, reflection) and public RPCs: no key.
            None | Some(Some(Access::Public)) => return Box::pin(self.inner.call(request)),
            Some(Some(Access::Key(permission))) => permission,
            // Every method of the API has a rule (tested): this one does not exist. Answered
            // here, as the router would, so that nothing unruled ever reaches a handler.
            Some(None) => {
                let unknown = tonic::Status::unimplemented("unknown method");
                return Box::pin(std::future::ready(Ok(unknown.into_http())));
            }
        };
        // The service that was made ready is the one to call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            let caller = match auth.authenticate(request.headers()).await {
                Ok(caller) => caller,
                Err(e) => return Ok(tonic::Status::from(e).into_http()),
            };
            // The access line names the key, refused or not.
            if let Some(record) = request.extensions().get::<Arc<CallRecord>>() {
                record.set_key(caller.key_id);
            }
            if let Err(e) = caller.require(permission) {
                return Ok(tonic::Status::from(e).into_http());
            }
            request.extensions_mut().insert(caller);
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// Every method of every `boucle.v1` service, from the descriptor set the server serves.
    fn api_methods() -> BTreeSet<(String, String)> {
        let set = prost_types::FileDescriptorSet::decode(boucle::pb::FILE_DESCRIPTOR_SET)
            .unwrap_or_else(|e| panic!("descriptor set: {e}"));
        let mut methods = BTreeSet::new();
        for file in set.file.iter().filter(|f| f.package() == PACKAGE) {
            for service in &file.service {
                for method in &service.method {
                    methods.insert((service.name().to_owned(), method.name().to_owned()));
                }
            }
        }
        methods
    }

    #[test]
    fn every_rpc_has_exactly_one_rule_and_every_rule_an_rpc() {
        let methods = api_methods();
        assert!(methods.len() >= 40, "the API was read: {}", methods.len());
        let ruled: Vec<(String, String)> = RULES
            .iter()
            .map(|(s, m, _)| ((*s).to_owned(), (*m).to_owned()))
            .collect();
        let unique: BTreeSet<_> = ruled.iter().cloned().collect();
        assert_eq!(unique.len(), ruled.len(), "a method with two rules");
        assert_eq!(unique, methods);
    }

    #[test]
    fn every_permission_is_asked_by_some_rpc() {
        for permission in Permission::ALL {
            assert!(
                RULES.iter().any(|(_, _, a)| *a == Key(*permission)),
                "{permission:?} is asked by no RPC"
            );
        }
    }

    #[test]
    fn paths_find_their_rule_and_only_the_api_is_ruled() {
        assert_eq!(
            rule("/boucle.v1.FeedbackService/SubmitFeedback"),
            Some(Some(Key(P::SubmitFeedback)))
        );
        assert_eq!(
            rule("/boucle.v1.ResultsService/GetReport"),
            Some(Some(Public))
        );
        assert_eq!(rule("/boucle.v1.FeedbackService/DropTables"), Some(None));
        assert_eq!(rule("/boucle.v1.Nope/SubmitFeedback"), Some(None));
        assert_eq!(rule("/boucle.v1x.FeedbackService/SubmitFeedback"), None);
        assert_eq!(rule("/grpc.health.v1.Health/Check"), None);
        assert_eq!(rule("garbage"), None);
    }
}
