//! Public reads: GetLocationResults (a location's published figures and 12-month history)
//! against the bare server returning the same message.

use std::sync::Arc;
use std::time::Duration;

use boucle::domain::Period;
use boucle::pb;
use boucle::pb::results_service_client::ResultsServiceClient;

use crate::db::{Target, open};
use crate::load::{self, Measured};
use crate::servers;

pub struct Outcome {
    pub target: &'static str,
    pub levels: Vec<(Measured, Measured)>,
    pub answer_bytes: usize,
}

async fn get(
    codes: Arc<Vec<String>>,
    channel: tonic::transport::Channel,
    stream: usize,
    seq: u64,
) -> Result<(), tonic::Status> {
    let code = codes[(stream * 31 + seq as usize) % codes.len()].clone();
    ResultsServiceClient::new(channel)
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: code,
            period: String::new(),
        })
        .await
        .map(|_| ())
}

pub async fn run(
    target: &Target,
    levels: &[usize],
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Outcome> {
    let settings = target.database("boucle_bench_reads", true).await?;
    let store = open(&settings).await?;
    let tz = chrono_tz::Europe::Paris;
    boucle::demo::seed(&store, boucle::demo::DEFAULT_SEED, tz).await?;
    // Twelve aggregated months, as a portal finds them.
    let mut period = Period::containing(boucle::store::now_ms(), tz);
    for _ in 0..12 {
        period = period.previous();
        let run = store
            .start_job_run(&period.to_string(), "aggregate", "bench")
            .await?;
        boucle_jobs::aggregate::aggregate(&store, period, tz, None, run, &mut |_, _| Ok(()))
            .await?;
        store.finish_job_run(run, None).await?;
    }
    let codes = boucle::store::locations::all_codes(store.connection()).await?;
    store.close().await?;
    let codes = Arc::new(codes);

    let boucle = servers::boucle(settings)?;
    let sample = ResultsServiceClient::new(load::connect(boucle.addr, 1).await?.remove(0))
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: codes[0].clone(),
            period: String::new(),
        })
        .await?
        .into_inner();
    let answer_bytes = prost::Message::encoded_len(&sample);
    let mut runs = Vec::new();
    for &streams in levels {
        let c = codes.clone();
        let channels = load::connect(boucle.addr, streams).await?;
        runs.push(
            load::run(channels, streams, warmup, measure, move |ch, s, q| {
                get(c.clone(), ch, s, q)
            })
            .await,
        );
    }
    drop(boucle);
    let bare = servers::bare(crate::bare::BareResults {
        answer: sample,
        ..Default::default()
    })?;
    let mut out = Vec::new();
    for (streams, measured) in levels.iter().zip(runs) {
        let c = codes.clone();
        let channels = load::connect(bare.addr, *streams).await?;
        let baseline = load::run(channels, *streams, warmup, measure, move |ch, s, q| {
            get(c.clone(), ch, s, q)
        })
        .await;
        out.push((measured, baseline));
    }
    Ok(Outcome {
        target: target.label(),
        levels: out,
        answer_bytes,
    })
}
