use boucle::app::indicators;
use boucle::domain::period::parse_optional;
use boucle::domain::validation::Violations;
use boucle::domain::validation::optional_uuid;
use boucle::pb;
use boucle::pb::convert::indicator::{self as convert, indicator_code};
use boucle::pb::convert::internal_results_to_pb;
use boucle::pb::indicator_service_server::IndicatorService;
use boucle::store::indicators::MeasurementFilter;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Page, State, required};
use crate::access::caller;

pub struct IndicatorApi {
    pub state: State,
}

#[tonic::async_trait]
impl IndicatorService for IndicatorApi {
    async fn list_indicators(
        &self,
        request: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        let pb::ListIndicatorsRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page: Page<String> = Page::parse(page_size, &page_token, &())?;
        let listed = indicators::list(&self.state.store, &page).await?;
        Ok(Response::new(pb::ListIndicatorsResponse {
            indicators: listed.rows.iter().map(convert::indicator_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn define_indicator(
        &self,
        request: Request<pb::DefineIndicatorRequest>,
    ) -> Result<Response<pb::DefineIndicatorResponse>, Status> {
        let caller = caller(&request)?;
        let def = convert::definition(required(request.into_inner().indicator, "indicator")?)?;
        let defined = indicators::define(&self.state.store, &caller, &def).await?;
        tracing::info!(indicator = %defined.code(), version = defined.version, "indicator defined");
        Ok(Response::new(pb::DefineIndicatorResponse {
            indicator: Some(convert::indicator_to_pb(&defined)),
        }))
    }

    async fn record_measurement(
        &self,
        request: Request<pb::RecordMeasurementRequest>,
    ) -> Result<Response<pb::RecordMeasurementResponse>, Status> {
        let caller = caller(&request)?;
        let m =
            convert::new_measurement(required(request.into_inner().measurement, "measurement")?)?;
        let stored = indicators::record_measurement(&self.state.store, &caller, &m).await?;
        Ok(Response::new(pb::RecordMeasurementResponse {
            measurement: Some(convert::measurement_to_pb(&stored)),
        }))
    }

    async fn list_measurements(
        &self,
        request: Request<pb::ListMeasurementsRequest>,
    ) -> Result<Response<pb::ListMeasurementsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListMeasurementsRequest {
            page_size,
            page_token,
            indicator_code: code,
            location_id,
            from_period,
            to_period,
        } = request.into_inner();
        let mut v = Violations::default();
        let indicator = if code.is_empty() {
            Some(None)
        } else {
            v.check("indicator_code", indicator_code(&code)).map(Some)
        };
        let location = v.check("location_id", optional_uuid(&location_id));
        let from = v.check("from_period", parse_optional(&from_period));
        let to = v.check("to_period", parse_optional(&to_period));
        let filter = v.finish(|| {
            Some(MeasurementFilter {
                indicator_code: indicator?,
                location: location?,
                from: from?,
                to: to?,
            })
        })?;
        let page: Page<Uuid> = Page::parse(page_size, &page_token, &filter)?;
        let listed =
            indicators::list_measurements(&self.state.store, &caller, &filter, &page).await?;
        Ok(Response::new(pb::ListMeasurementsResponse {
            measurements: listed.rows.iter().map(convert::measurement_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn get_internal_results(
        &self,
        request: Request<pb::GetInternalResultsRequest>,
    ) -> Result<Response<pb::GetInternalResultsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::GetInternalResultsRequest {
            location_code,
            period,
        } = request.into_inner();
        if location_code.trim().is_empty() {
            return Err(boucle::Error::invalid("location_code", "is required").into());
        }
        let period = parse_optional(&period).map_err(|d| boucle::Error::invalid("period", d))?;
        let results =
            indicators::internal_results(&self.state.store, &caller, &location_code, period)
                .await?;
        Ok(Response::new(internal_results_to_pb(&results)))
    }
}
