//! IndicatorService: declared in the API, built in the aggregation issue. Every RPC already
//! checks its caller.

use boucle::Error;
use boucle::domain::Permission;
use boucle::pb;
use boucle::pb::indicator_service_server::IndicatorService;
use tonic::{Request, Response, Status};

use super::State;

pub struct IndicatorApi {
    pub state: State,
}

impl IndicatorApi {
    async fn not_yet<T, U>(
        &self,
        request: &Request<T>,
        permission: Permission,
        rpc: &'static str,
    ) -> Result<Response<U>, Status> {
        self.state.auth.authorize(request, permission).await?;
        Err(Error::Unimplemented(rpc).into())
    }
}

#[tonic::async_trait]
impl IndicatorService for IndicatorApi {
    async fn list_indicators(
        &self,
        r: Request<pb::ListIndicatorsRequest>,
    ) -> Result<Response<pb::ListIndicatorsResponse>, Status> {
        self.not_yet(&r, Permission::ReadIndicators, "ListIndicators")
            .await
    }
    async fn define_indicator(
        &self,
        r: Request<pb::DefineIndicatorRequest>,
    ) -> Result<Response<pb::DefineIndicatorResponse>, Status> {
        self.not_yet(&r, Permission::DefineIndicators, "DefineIndicator")
            .await
    }
    async fn record_measurement(
        &self,
        r: Request<pb::RecordMeasurementRequest>,
    ) -> Result<Response<pb::RecordMeasurementResponse>, Status> {
        self.not_yet(&r, Permission::RecordMeasurements, "RecordMeasurement")
            .await
    }
    async fn list_measurements(
        &self,
        r: Request<pb::ListMeasurementsRequest>,
    ) -> Result<Response<pb::ListMeasurementsResponse>, Status> {
        self.not_yet(&r, Permission::RecordMeasurements, "ListMeasurements")
            .await
    }
}
