use boucle::Error;
use boucle::app::locations;
use boucle::pb::convert::{location_patch, location_spec, location_to_pb, optional_id};
use boucle::pb::location_service_server::LocationService;
use boucle::pb::{self, get_location_request, import_location_outcome};
use boucle::store::locations::{LocationFilter, LocationKey, Upserted};
use tonic::{Request, Response, Status, Streaming};

use super::{Page, State, required};
use crate::access::caller;

pub struct LocationApi {
    pub state: State,
}

#[tonic::async_trait]
impl LocationService for LocationApi {
    async fn create_location(
        &self,
        request: Request<pb::CreateLocationRequest>,
    ) -> Result<Response<pb::CreateLocationResponse>, Status> {
        let caller = caller(&request)?;
        let pb::CreateLocationRequest { location, inactive } = request.into_inner();
        let spec = location_spec(required(location, "location")?, !inactive, "location")?;
        let view = locations::create(&self.state.store, &caller, &spec).await?;
        tracing::info!(location = %view.location.id, code = %view.location.code, "location created");
        Ok(Response::new(pb::CreateLocationResponse {
            location: Some(location_to_pb(&view)),
        }))
    }

    async fn get_location(
        &self,
        request: Request<pb::GetLocationRequest>,
    ) -> Result<Response<pb::GetLocationResponse>, Status> {
        let caller = caller(&request)?;
        let key = match request.into_inner().key {
            Some(get_location_request::Key::Id(id)) => {
                LocationKey::Id(boucle::pb::convert::id("id", &id)?)
            }
            Some(get_location_request::Key::Code(code)) => LocationKey::Code(code),
            None => return Err(Error::invalid("id", "id or code is required").into()),
        };
        let view = locations::get(&self.state.store, &caller, &key).await?;
        Ok(Response::new(pb::GetLocationResponse {
            location: Some(location_to_pb(&view)),
        }))
    }

    async fn list_locations(
        &self,
        request: Request<pb::ListLocationsRequest>,
    ) -> Result<Response<pb::ListLocationsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListLocationsRequest {
            page_size,
            page_token,
            subtree_of,
            parent_id,
            roots_only,
            show_inactive,
        } = request.into_inner();
        let filter = LocationFilter {
            subtree_of: optional_id("subtree_of", &subtree_of)?,
            parent_id: optional_id("parent_id", &parent_id)?,
            roots_only,
            show_inactive,
        };
        let page: Page<String> = Page::parse(page_size, &page_token, &filter)?;
        let listed = locations::list(&self.state.store, &caller, &filter, &page).await?;
        Ok(Response::new(pb::ListLocationsResponse {
            locations: listed.rows.iter().map(location_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn update_location(
        &self,
        request: Request<pb::UpdateLocationRequest>,
    ) -> Result<Response<pb::UpdateLocationResponse>, Status> {
        let caller = caller(&request)?;
        let pb::UpdateLocationRequest {
            location,
            update_mask,
        } = request.into_inner();
        let paths = update_mask.map(|m| m.paths).unwrap_or_default();
        let (key, patch) = location_patch(required(location, "location")?, &paths)?;
        let view = locations::update(&self.state.store, &caller, &key, &patch).await?;
        Ok(Response::new(pb::UpdateLocationResponse {
            location: Some(location_to_pb(&view)),
        }))
    }

    async fn import_locations(
        &self,
        request: Request<Streaming<pb::ImportLocationsRequest>>,
    ) -> Result<Response<pb::ImportLocationsResponse>, Status> {
        let caller = caller(&request)?;
        // In order, one at a time: an item may name a parent created by an earlier one.
        let mut stream = request.into_inner();
        let mut answer = pb::ImportLocationsResponse::default();
        let mut index: u32 = 0;
        while let Some(item) = stream.message().await? {
            let code = item
                .location
                .as_ref()
                .map(|l| l.code.clone())
                .unwrap_or_default();
            let parsed = self
                .state
                .within_import_limit(index)
                .and_then(|()| required(item.location, "location"))
                .and_then(|l| location_spec(l, true, "location"));
            let result = match parsed {
                Ok(spec) => locations::upsert(&self.state.store, &caller, &spec).await,
                Err(e) => Err(e),
            };
            use import_location_outcome::Result as R;
            let outcome = match result {
                Ok((view, upserted)) => {
                    let r = match upserted {
                        Upserted::Created => {
                            answer.created += 1;
                            R::Created
                        }
                        Upserted::Updated => {
                            answer.updated += 1;
                            R::Updated
                        }
                        Upserted::Unchanged => {
                            answer.unchanged += 1;
                            R::Unchanged
                        }
                    };
                    pb::ImportLocationOutcome {
                        index,
                        code,
                        result: r as i32,
                        location_id: view.location.id.to_string(),
                        ..Default::default()
                    }
                }
                Err(e) => {
                    answer.failed += 1;
                    let (error_code, error_message, violations) =
                        boucle::pb::status::item_error(&e);
                    pb::ImportLocationOutcome {
                        index,
                        code,
                        result: R::Failed as i32,
                        location_id: String::new(),
                        error_code,
                        error_message,
                        violations,
                    }
                }
            };
            answer.outcomes.push(outcome);
            index = index.saturating_add(1);
        }
        tracing::info!(
            created = answer.created,
            updated = answer.updated,
            failed = answer.failed,
            "locations imported"
        );
        Ok(Response::new(answer))
    }
}
