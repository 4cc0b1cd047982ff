use boucle::app::{keys, reports};
use boucle::domain::validation::optional_uuid;
use boucle::domain::validation::text;
use boucle::pb;
use boucle::pb::admin_service_server::AdminService;
use boucle::pb::convert::{self, api_key_to_pb};
use secrecy::ExposeSecret;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Page, State, required};
use crate::access::caller;

pub struct AdminApi {
    pub state: State,
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ApiKey {
            id: _,
            name,
            role,
            scope_location_id,
            scope_location_code: _,
            prefix: _,
            create_time: _,
            revoke_time: _,
        } = required(request.into_inner().api_key, "api_key")?;
        let mut v = boucle::domain::validation::Violations::under("api_key");
        let name = v.check("name", text(&name, 120, true));
        let role = v.check("role", convert::role(role));
        let scope = v.check("scope_location_id", optional_uuid(&scope_location_id));
        let (name, role, scope) = v.finish(|| Some((name?, role?, scope?)))?;
        let (view, secret) =
            keys::create(&self.state.store, Some(&caller), &name, role, scope).await?;
        tracing::info!(key = %view.key.id, role = %role, "API key created");
        Ok(Response::new(pb::CreateApiKeyResponse {
            api_key: Some(api_key_to_pb(&view)),
            secret: secret.secret.expose_secret().to_owned(),
        }))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListApiKeysRequest {
            page_size,
            page_token,
            show_revoked,
        } = request.into_inner();
        let page: Page<Uuid> = Page::parse(page_size, &page_token, &show_revoked)?;
        let listed = keys::list(&self.state.store, &caller, show_revoked, &page).await?;
        Ok(Response::new(pb::ListApiKeysResponse {
            api_keys: listed.rows.iter().map(api_key_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("id", &request.into_inner().id)?;
        let view = keys::revoke(&self.state.store, &caller, id).await?;
        self.state.auth.evict(id);
        tracing::info!(key = %id, "API key revoked");
        Ok(Response::new(pb::RevokeApiKeyResponse {
            api_key: Some(api_key_to_pb(&view)),
        }))
    }

    async fn create_recipient(
        &self,
        request: Request<pb::CreateRecipientRequest>,
    ) -> Result<Response<pb::CreateRecipientResponse>, Status> {
        let caller = caller(&request)?;
        let pb::Recipient {
            id: _,
            email,
            name,
            location_id,
            location_code: _,
            create_time: _,
        } = required(request.into_inner().recipient, "recipient")?;
        let mut v = boucle::domain::validation::Violations::under("recipient");
        let email = v.check(
            "email",
            boucle::domain::feedback::email(&email)
                .and_then(|e| e.ok_or_else(|| "is required".to_owned())),
        );
        let name = v.check("name", text(&name, 120, true));
        let location = v.check(
            "location_id",
            boucle::domain::validation::uuid(&location_id),
        );
        let (email, name, location) = v.finish(|| Some((email?, name?, location?)))?;
        let recipient =
            reports::subscribe(&self.state.store, &caller, &email, &name, location).await?;
        Ok(Response::new(pb::CreateRecipientResponse {
            recipient: Some(convert::recipient_to_pb(&recipient)),
        }))
    }

    async fn list_recipients(
        &self,
        request: Request<pb::ListRecipientsRequest>,
    ) -> Result<Response<pb::ListRecipientsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListRecipientsRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page: Page<Uuid> = Page::parse(page_size, &page_token, &caller.scope)?;
        let listed = reports::list(&self.state.store, &caller, &page).await?;
        Ok(Response::new(pb::ListRecipientsResponse {
            recipients: listed.rows.iter().map(convert::recipient_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn delete_recipient(
        &self,
        request: Request<pb::DeleteRecipientRequest>,
    ) -> Result<Response<pb::DeleteRecipientResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("id", &request.into_inner().id)?;
        reports::unsubscribe(&self.state.store, &caller, id).await?;
        Ok(Response::new(pb::DeleteRecipientResponse {}))
    }
}
